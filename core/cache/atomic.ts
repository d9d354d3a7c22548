/**
 * @file Atomic file writes: write to a temp name in the same folder, then rename, so a crash
 * never leaves a half-written file under the final name.
 *
 * @example
 *   writeFileAtomic('meta.json', JSON.stringify(meta));
 *   withAtomicFile('block.npy', (fd) => { fs.writeSync(fd, header); ... }); // streamed writes
 */
import fs from 'node:fs';
import path from 'node:path';

let counter = 0;

/** Opens a temp file beside `file`, lets `write` fill it, then renames it into place. */
export function withAtomicFile(file: string, write: (fd: number) => void): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${counter++}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    try {
      write(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  withAtomicFile(file, (fd) => fs.writeFileSync(fd, data));
}
