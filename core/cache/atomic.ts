/**
 * @file Atomic file writes: write to a temp name in the same folder, then rename, so a crash
 * never leaves a half-written file under the final name.
 */
import fs from 'node:fs';
import path from 'node:path';

let counter = 0;

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${counter++}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}
