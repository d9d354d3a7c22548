/**
 * @file Helpers shared by the synthetic dataset generators: atomic file writes (temp file +
 * rename, so an interrupted run never leaves a half-written file), a bounded async pool, and
 * date formatting in UTC.
 *
 * @example
 *   await writeFileAtomic('/out/train/train_label.txt', '1.5\n');
 */

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
