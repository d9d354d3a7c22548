/**
 * @file `smp cache ls | prune`: the entries of a cache folder with kind, id, size and last use,
 * and which of them to remove. Two kinds of entry:
 *
 *   block  `blocks/<key>/` (block.npy + meta.json): a feature block; id and kind from meta.json;
 *          last use = meta.json's mtime (set when the block is written or read).
 *   rows   `rows/embed/<kind>-<hash>/` (shard-*.npy + .json, info.json): the per-row cache of an
 *          embedding kind or image-stats; id = its model (or its settings); last use =
 *          info.json's mtime (set at each extraction that reads or fills it).
 *
 * A block is referenced by a pipeline when the pipeline's plan has its key (same kit version,
 * params, upstream blocks and data files); a row cache when the pipeline has an entry of its
 * kind whose params agree with every setting its info.json records (model, dtype, size, ...).
 * An entry without its meta.json / info.json (a writer died, or still writes) counts as used at
 * its newest file's mtime.
 *
 * @example
 *   const entries = listCacheEntries('.cache');
 *   const old = entries.filter((e) => isPrunable(e, { olderThanMs: 30 * DAY_MS }));
 *   removeCacheEntries('.cache', old);
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { canonicalJson } from './block-cache.ts';

export interface CacheEntry {
  type: 'block' | 'rows';
  /** Path under the cache folder. */
  path: string;
  kind: string;
  id: string;
  bytes: number;
  lastUsed: Date;
  /** Block key (type block). */
  key?: string;
  /** info.json of a row cache. */
  info?: Record<string, unknown>;
  /** meta.json / info.json absent. */
  incomplete: boolean;
}

export const DAY_MS = 86_400_000;

function readJson(file: string): Record<string, unknown> | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Total bytes and newest mtime of the files in a folder (not recursive: entries are flat). */
function folderStats(dir: string): { bytes: number; newest: number } {
  let bytes = 0;
  let newest = 0;
  for (const f of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!f.isFile()) continue;
    const st = fs.statSync(path.join(dir, f.name), { throwIfNoEntry: false });
    if (!st) continue;
    bytes += st.size;
    newest = Math.max(newest, st.mtimeMs);
  }
  return { bytes, newest };
}

function subdirs(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort() : [];
}

function entryOf(cacheDir: string, rel: string, type: CacheEntry['type'], marker: string): CacheEntry {
  const dir = path.join(cacheDir, rel);
  const { bytes, newest } = folderStats(dir);
  const markerFile = path.join(dir, marker);
  const json = readJson(markerFile);
  const mtime = fs.statSync(markerFile, { throwIfNoEntry: false })?.mtimeMs;
  const name = path.basename(rel);
  const base = { type, path: rel, bytes, lastUsed: new Date(json && mtime !== undefined ? mtime : newest), incomplete: !json };
  if (type === 'block') return { ...base, kind: String(json?.kind ?? '?'), id: String(json?.id ?? '?'), key: name };
  const kind = String(json?.kind ?? name.replace(/-[0-9a-f]+$/, ''));
  const settings = json ? Object.entries(json).filter(([k]) => !['kind', 'dim', 'fingerprint', 'spec'].includes(k)) : [];
  const id = typeof json?.model === 'string' ? json.model : settings.map(([k, v]) => `${k}=${canonicalJson(v)}`).join(' ') || '?';
  return { ...base, kind, id, info: json ?? undefined };
}

/** Every entry of a cache folder, blocks first (by key), then row caches (by folder). */
export function listCacheEntries(cacheDir: string): CacheEntry[] {
  if (!fs.existsSync(cacheDir)) throw new UserError(`cache folder ${cacheDir} does not exist (--cache DIR, SMP_CACHE_DIR, else .cache in the working folder)`);
  return [
    ...subdirs(path.join(cacheDir, 'blocks')).map((k) => entryOf(cacheDir, path.join('blocks', k), 'block', 'meta.json')),
    ...subdirs(path.join(cacheDir, 'rows', 'embed')).map((d) => entryOf(cacheDir, path.join('rows', 'embed', d), 'rows', 'info.json')),
  ];
}

/** What the pipelines given to `--unreferenced` use (core/pipeline/run.ts pipelineCacheUse). */
export interface CacheUse {
  keys: ReadonlySet<string>;
  features: readonly { kind: string; params: Record<string, unknown> }[];
}

/** Whether a pipeline uses the entry (see the file note for the rule). */
export function isReferenced(e: CacheEntry, use: CacheUse): boolean {
  if (e.type === 'block') return e.key !== undefined && use.keys.has(e.key);
  const info = e.info;
  if (!info) return use.features.some((f) => f.kind === e.kind); // no info.json yet: keep it if the kind is in use
  return use.features.some((f) => f.kind === e.kind && Object.entries(info).every(([k, v]) => !(k in f.params) || canonicalJson(f.params[k]) === canonicalJson(v)));
}

/** An entry to remove: older than `olderThanMs` (when given) and unreferenced (when `use` is given). */
export function isPrunable(e: CacheEntry, o: { olderThanMs?: number; use?: CacheUse; now?: number }): boolean {
  if (o.olderThanMs === undefined && o.use === undefined) throw new Error('isPrunable: give olderThanMs and/or use');
  const old = o.olderThanMs === undefined || (o.now ?? Date.now()) - e.lastUsed.getTime() > o.olderThanMs;
  return old && (o.use === undefined || !isReferenced(e, o.use));
}

export function removeCacheEntries(cacheDir: string, entries: readonly CacheEntry[]): void {
  for (const e of entries) fs.rmSync(path.join(cacheDir, e.path), { recursive: true, force: true });
}

/** "30d", "12h", "90m" (also "2w") -> milliseconds. */
export function parseAge(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(w|d|h|m)$/.exec(s.trim());
  if (!m) throw new UserError(`--older-than: expected a number and a unit (w, d, h, m), e.g. 30d or 12h; got "${s}"`);
  return Number(m[1]) * { w: 7 * DAY_MS, d: DAY_MS, h: 3_600_000, m: 60_000 }[m[2] as 'w' | 'd' | 'h' | 'm'];
}

export function formatBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
}

/** One line per entry (type, kind, id, size, last use, path) and a total. */
export function formatEntries(entries: readonly CacheEntry[]): string {
  const rows = entries.map((e) => [e.type, e.kind, e.id + (e.incomplete ? ' (incomplete)' : ''), formatBytes(e.bytes), e.lastUsed.toISOString().slice(0, 16).replace('T', ' '), e.path]);
  const head = ['type', 'kind', 'id', 'size', 'last use (UTC)', 'entry'];
  const width = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (r: string[]) => r.map((c, j) => (j === 3 ? c.padStart(width[j]) : c.padEnd(width[j]))).join('  ').trimEnd();
  const total = entries.reduce((s, e) => s + e.bytes, 0);
  return [line(head), ...rows.map(line), `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, ${formatBytes(total)}`].join('\n');
}
