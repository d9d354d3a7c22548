/**
 * @file Per-row embedding cache: rows are stored by row key (post id + input fingerprint) in
 * shards of about `shardRows` rows under one folder per (model, input kind, preprocessing).
 * A shard is `<name>.npy` (float32 rows x dim, numpy-readable) plus `<name>.json` (row keys and
 * which rows had no usable input); both are written atomically and the JSON last, so a shard
 * counts only once complete. An interrupted extraction therefore keeps every shard it finished
 * and the rerun computes only rows found in none; rows are matched by key, not position, so
 * reordered, added or removed posts reuse what is there.
 *
 * @example
 *   const cache = new RowCache(dir, 512);
 *   const found = cache.lookup(keys, out, missing); // 1 where the row came from a shard
 *   cache.write(['p1:123-456', ...], data, missingFlags);
 */
import fs from 'node:fs';
import path from 'node:path';
import { isTempName, tempIsStale, writeFileAtomic } from '../../core/cache/atomic.ts';
import { hashOf, touch } from '../../core/cache/block-cache.ts';
import { readNpy, writeNpy } from '../../core/cache/npy.ts';

interface ShardMeta {
  version: 1;
  dim: number;
  rows: number;
  keys: string[];
  /** Row indices (within the shard) whose input was missing or unreadable. */
  missing: number[];
}

export class RowCache {
  constructor(
    readonly dir: string,
    readonly dim: number,
  ) {}

  /**
   * Removes what writers that died mid-write left: temp files of processes that are gone (on
   * other hosts sharing the folder: untouched for a day), and shard .npy files whose .json never
   * followed (older than an hour, so a live writer between its two renames is never disturbed).
   */
  sweep(): number {
    if (!fs.existsSync(this.dir)) return 0;
    const files = fs.readdirSync(this.dir);
    const names = new Set(files);
    let removed = 0;
    for (const f of files) {
      const tmp = isTempName(f);
      const orphan = !tmp && f.startsWith('shard-') && f.endsWith('.npy') && !names.has(`${f.slice(0, -4)}.json`);
      if (!tmp && !orphan) continue;
      const full = path.join(this.dir, f);
      const mtime = fs.statSync(full, { throwIfNoEntry: false })?.mtimeMs;
      if (mtime === undefined || (tmp ? !tempIsStale(f, mtime) : Date.now() - mtime < 3600_000)) continue;
      fs.rmSync(full, { force: true });
      removed++;
    }
    return removed;
  }

  /** Complete shards (their JSON exists), in name order. */
  shards(): string[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.startsWith('shard-') && f.endsWith('.json'))
      .sort()
      .map((f) => path.join(this.dir, f.slice(0, -'.json'.length)));
  }

  /**
   * Copies cached rows into `out` (row r at r * stride, default stride dim) and `missing` for
   * each key found in a shard; returns 1 per found row. Unreadable shards are skipped (their
   * rows are recomputed).
   */
  lookup(keys: readonly string[], out: Float32Array, missing: Uint8Array, stride = this.dim): Uint8Array {
    const found = new Uint8Array(keys.length);
    const want = new Map<string, number[]>();
    keys.forEach((k, r) => {
      const rows = want.get(k);
      if (rows) rows.push(r);
      else want.set(k, [r]);
    });
    for (const shard of this.shards()) {
      if (want.size === 0) break;
      let meta: ShardMeta;
      try {
        meta = JSON.parse(fs.readFileSync(`${shard}.json`, 'utf8')) as ShardMeta;
      } catch {
        continue;
      }
      if (meta.dim !== this.dim || meta.keys.length !== meta.rows) continue;
      const hits: [number, number[]][] = [];
      meta.keys.forEach((k, i) => {
        const rows = want.get(k);
        if (rows) hits.push([i, rows]);
      });
      if (hits.length === 0) continue;
      let npy: { data: Float32Array; rows: number; cols: number };
      try {
        npy = readNpy(`${shard}.npy`);
      } catch {
        continue;
      }
      if (npy.rows !== meta.rows || npy.cols !== this.dim) continue;
      const miss = new Set(meta.missing);
      for (const [i, rows] of hits) {
        const src = npy.data.subarray(i * this.dim, (i + 1) * this.dim);
        for (const r of rows) {
          out.set(src, r * stride);
          missing[r] = miss.has(i) ? 1 : 0;
          found[r] = 1;
        }
        want.delete(meta.keys[i]);
      }
    }
    return found;
  }

  /** Writes one shard (rows x dim); returns its path without extension. */
  write(keys: readonly string[], data: Float32Array, missing: Uint8Array): string {
    if (data.length !== keys.length * this.dim) throw new Error(`row cache: ${data.length} floats for ${keys.length} rows of ${this.dim}`);
    const name = path.join(this.dir, `shard-${hashOf(keys.join('\n')).slice(0, 20)}`);
    writeNpy(`${name}.npy`, data, keys.length, this.dim);
    const meta: ShardMeta = { version: 1, dim: this.dim, rows: keys.length, keys: [...keys], missing: [...missing.keys()].filter((i) => missing[i]) };
    writeFileAtomic(`${name}.json`, JSON.stringify(meta));
    return name;
  }

  /** Describes the cache folder (written once; `smp cache ls` reads it) and marks it used now. */
  describe(info: Record<string, unknown>): void {
    const file = path.join(this.dir, 'info.json');
    if (!fs.existsSync(file)) writeFileAtomic(file, JSON.stringify({ ...info, dim: this.dim }, null, 1) + '\n');
    else touch(file);
  }
}
