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

/** A copy of the real SMP-Video data whose train posts file keeps only its first `lines` lines. */
export function cutVideoCopy(dir: string, lines: number): string {
  const video = path.join(SHARED_DATA, 'smp-video');
  for (const split of ['train', 'test']) {
    fs.mkdirSync(path.join(dir, split), { recursive: true });
    for (const kind of ['posts', 'users', 'videos', ...(split === 'train' ? ['popularity'] : [])]) {
      const name = `SMP-Video_anonymized_${kind}_${split}.jsonl`;
      let text = fs.readFileSync(path.join(video, split, name), 'utf8');
      if (split === 'train' && kind === 'posts') text = text.split('\n').slice(0, lines).join('\n') + '\n';
      fs.writeFileSync(path.join(dir, split, name), text);
    }
  }
  return dir;
}
