/**
 * @file The kit version (from package.json) and the git commit of the checkout, for run.json
 * and cache keys.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export const KIT_ROOT = new URL('../', import.meta.url).pathname;

export const KIT_VERSION: string = (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: KIT_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
}
