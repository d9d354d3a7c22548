/**
 * @file Content-addressed cache of feature blocks (`.cache/blocks/<key>/block.npy` + meta.json).
 * The key hashes the kit version, kind@version, canonical params, upstream block keys and the
 * dataset fingerprint, so any change upstream gives a new key and stale entries are never read.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Matrix } from '../matrix.ts';
import { writeFileAtomic } from './atomic.ts';
import { readNpy, writeNpy } from './npy.ts';

/** JSON with sorted keys, so equal params always hash equal. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export function hashOf(...parts: unknown[]): string {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? p : canonicalJson(p)).update('\u0000');
  return h.digest('hex').slice(0, 24);
}

const HASH_CHUNK_BYTES = 16 * 1024 * 1024;

/** sha256 of a file's content, read in chunks (files of any size). */
function hashFile(file: string): string {
  const h = crypto.createHash('sha256');
  const buf = Buffer.allocUnsafe(HASH_CHUNK_BYTES);
  const fd = fs.openSync(file, 'r');
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** Fingerprint of data files: name and content hash (cached per path+size+mtime in-process). */
const fileHashes = new Map<string, string>();
export function fingerprintFiles(files: readonly string[]): string {
  const h = crypto.createHash('sha256');
  for (const f of [...files].sort()) {
    const st = fs.statSync(f);
    const memo = `${f}:${st.size}:${st.mtimeMs}`;
    let digest = fileHashes.get(memo);
    if (!digest) {
      digest = hashFile(f);
      fileHashes.set(memo, digest);
    }
    h.update(`${path.basename(f)}:${digest}\n`);
  }
  return h.digest('hex').slice(0, 24);
}

/**
 * The cache folder of a run: `--cache DIR`, else SMP_CACHE_DIR, else `<work>/.cache`. A shared
 * filesystem works: every entry is written under a temp name and renamed into place.
 */
export function resolveCacheDir(work: string, dir?: string): string {
  return path.resolve(work, dir ?? (process.env.SMP_CACHE_DIR || '.cache'));
}

/** Marks a cache entry as used now (its mtime is the "last use" of `smp cache ls` / prune --older-than). */
export function touch(file: string): void {
  const now = new Date();
  try {
    fs.utimesSync(file, now, now);
  } catch {
    // read-only cache or the entry went away: last use is informational
  }
}

export class BlockCache {
  /** `onWarning` hears about entries that exist but cannot be read (they are recomputed). */
  constructor(
    readonly dir: string,
    private readonly onWarning: (message: string) => void = () => {},
  ) {}

  private entry(key: string): string {
    return path.join(this.dir, 'blocks', key);
  }

  /** Whether a complete entry exists (without reading it). */
  has(key: string): boolean {
    return fs.existsSync(path.join(this.entry(key), 'meta.json'));
  }

  /** Column count of a complete entry from its meta.json (without reading the matrix), or null. */
  columns(key: string): number | null {
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(this.entry(key), 'meta.json'), 'utf8')) as { names?: unknown[] };
      return Array.isArray(meta.names) ? meta.names.length : null;
    } catch {
      return null;
    }
  }

  get(key: string): Matrix | null {
    const dir = this.entry(key);
    const metaFile = path.join(dir, 'meta.json');
    if (!fs.existsSync(metaFile)) return null;
    try {
      const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { names?: string[]; categorical?: boolean[] };
      if (!Array.isArray(meta.names) || !Array.isArray(meta.categorical)) throw new Error(`${metaFile}: no names or categorical list`);
      const { data, rows, cols } = readNpy(path.join(dir, 'block.npy'));
      if (cols !== meta.names.length) throw new Error(`block.npy has ${cols} columns, meta.json names ${meta.names.length}`);
      touch(metaFile);
      return { rows, cols, data, names: meta.names, categorical: meta.categorical };
    } catch (e) {
      this.onWarning(`cache entry ${dir} cannot be read (${(e as Error).message}); recomputing it`);
      return null;
    }
  }

  put(key: string, m: Matrix, info: Record<string, unknown>): void {
    const dir = this.entry(key);
    writeNpy(path.join(dir, 'block.npy'), m.data, m.rows, m.cols);
    // meta.json last: its presence marks a complete entry.
    writeFileAtomic(path.join(dir, 'meta.json'), JSON.stringify({ ...info, names: m.names, categorical: m.categorical }, null, 1));
  }
}
