/**
 * @file Helpers shared by the synthetic dataset generators: atomic file writes (temp file +
 * rename, so an interrupted run never leaves a half-written file), a bounded async pool, and
 * date formatting in UTC.
 *
 * @example
 *   await writeFileAtomic('/out/train/train_label.txt', '1.5\n');
 */

import fs from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

let tmpCounter = 0;

/** Writes `data` to `file` through a temp file in the same folder and a rename. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${tmpCounter++}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** A text file written piece by piece (see openTextWriter). */
export interface TextWriter {
  write(text: string): void;
  /** Flushes, closes and renames the temp file to its final name. */
  close(): void;
  /** Closes and deletes the temp file (after an error). */
  abort(): void;
}

/**
 * Streams text to `file` through a temp file in the same folder, buffered into ~1 MB writes,
 * and renames it on `close()`: files of any size (a full-size columnar user file is ~600 MB)
 * without ever holding them as one string.
 */
export function openTextWriter(file: string, bufferChars = 1 << 20): TextWriter {
  fs.mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${tmpCounter++}`;
  const fd = fs.openSync(tmp, 'w');
  let parts: string[] = [];
  let size = 0;
  let open = true;
  const flush = (): void => {
    if (size === 0) return;
    const buf = Buffer.from(parts.join(''), 'utf8');
    for (let off = 0; off < buf.length; ) off += fs.writeSync(fd, buf, off, buf.length - off);
    parts = [];
    size = 0;
  };
  return {
    write(text) {
      parts.push(text);
      size += text.length;
      if (size >= bufferChars) flush();
    },
    close() {
      try {
        flush();
      } finally {
        fs.closeSync(fd);
        open = false;
      }
      fs.renameSync(tmp, file);
    },
    abort() {
      if (open) fs.closeSync(fd);
      open = false;
      fs.rmSync(tmp, { force: true });
    },
  };
}

/** Runs `task(i)` for i in [0, n) with at most `limit` tasks in flight; results in order. */
export async function pool<T>(n: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  return out;
}

const pad = (x: number, w = 2): string => String(x).padStart(w, '0');

/** Unix seconds -> "YYYY-MM-DD HH:MM" in UTC. */
export function formatMinuteUtc(t: number): string {
  const d = new Date(t * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** Rounds for text output without float noise ("6.4100" -> "6.41"). */
export function fmt(x: number, digits = 4): string {
  const s = x.toFixed(digits);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Draws an index from unnormalised weights with a uniform u in [0, 1). */
export function drawWeighted(cum: Float64Array, u: number): number {
  const target = u * cum[cum.length - 1];
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function cumulative(w: ArrayLike<number>): Float64Array {
  const c = new Float64Array(w.length);
  let s = 0;
  for (let i = 0; i < w.length; i++) {
    s += w[i];
    c[i] = s;
  }
  return c;
}
