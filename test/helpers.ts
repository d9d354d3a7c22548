/**
 * @file Shared test helpers: temp folders under test/.tmp and the shared real-data folder.
 */
import fs from 'node:fs';
import path from 'node:path';

export const REPO = path.resolve(new URL('..', import.meta.url).pathname);
/** Real data lives beside the checkout (CI has shared/ next to it). */
export const SHARED_DATA = path.resolve(REPO, '..', 'shared', 'data');

export function tmpDir(name: string): string {
  const dir = path.join(REPO, 'test', '.tmp', `${name}-${process.pid}-${Date.now()}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export function writeFile(file: string, text: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}
