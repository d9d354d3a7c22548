/**
 * @file The embedding extraction loop shared by the embedding kinds: look every row up in the
 * row cache, compute only the rows found in no shard, in batches, with the next batches'
 * inputs prepared (decoded, tokenised) while the current one runs through the model, write a
 * shard every `shardRows` computed rows, report progress (rate, ETA) and count computed,
 * cached and missing rows in the run log (`<label>.computed`, `<label>.cached`,
 * `<label>.missing`). Rows the batch reports as missing (no file, unreadable image, empty text)
 * get a zero vector and a set flag, and are cached like any other row.
 *
 * @example
 *   const { data, missing } = await extractEmbeddings({
 *     cacheDir, keys, dim: 512, batchSize: 32, shardRows: 1024, label: 'clip-image', log,
 *     prepare: (rows) => pool.preprocess(rows.map((r) => files[r]), spec),
 *     run: (p, rows) => embedBatch(p),
 *   });
 */
import type { RunLog } from '../../core/report/run-log.ts';
import { shardRows, type Shard } from '../../core/pipeline/shard.ts';
import { RowCache } from './row-cache.ts';

export interface BatchOutput {
  /** rows.length x dim */
  data: Float32Array;
  /** 1 where the row had no usable input (its vector is left zero). */
  missing: Uint8Array;
}

export interface ExtractOptions<P> {
  /** Folder of this (model, input kind) row cache. */
  cacheDir: string;
  /** Row key per table row (post id + input fingerprint). */
  keys: readonly string[];
  dim: number;
  /** Floats per output row (default dim): room for extra columns, e.g. the missing flag, so the block needs no copy. */
  stride?: number;
  batchSize: number;
  shardRows: number;
  /** Batches prepared ahead of the one running (default 2). */
  prefetch?: number;
  label: string;
  log: RunLog;
  /** L2-normalise each row of the batch output (default true; false when the kind normalises parts itself). */
  normalize?: boolean;
  /** What to record in the cache folder's info.json. */
  info?: Record<string, unknown>;
  /**
   * Only this shard's rows (`smp run --shard i/N`): they are looked up and computed into the
   * cache; the other rows are left zero and the result is not a block to use.
   */
  shard?: Shard;
  prepare(rows: number[]): Promise<P>;
  run(prepared: P, rows: number[]): Promise<BatchOutput>;
}

export interface Extracted {
  /** n rows of `stride` floats, the first dim of each the embedding, L2-normalised unless `normalize: false` (zeros where missing). */
  data: Float32Array;
  missing: Uint8Array;
  computed: number;
  cached: number;
}

/** Scales each row to unit length in place (zero rows stay zero). */
export function l2normalize(data: Float32Array, dim: number): void {
  for (let o = 0; o < data.length; o += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += data[o + j] * data[o + j];
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < dim; j++) data[o + j] *= inv;
    }
  }
}

export async function extractEmbeddings<P>(o: ExtractOptions<P>): Promise<Extracted> {
  const n = o.keys.length;
  const dim = o.dim;
  const stride = o.stride ?? dim;
  if (stride < dim) throw new Error(`${o.label}: stride ${stride} < dim ${dim}`);
  const cache = new RowCache(o.cacheDir, dim);
  cache.sweep();
  if (o.info) cache.describe(o.info);
  const data = new Float32Array(n * stride);
  const missing = new Uint8Array(n);
  const [lo, hi] = o.shard ? shardRows(n, o.shard) : [0, n];
  const found = cache.lookup(o.keys.slice(lo, hi), data.subarray(lo * stride), missing.subarray(lo), stride);

  // one computation per distinct key; duplicates are copied afterwards
  const firstRow = new Map<string, number>();
  const todo: number[] = [];
  const dupes: [number, number][] = [];
  for (let r = lo; r < hi; r++) {
    if (found[r - lo]) continue;
    const first = firstRow.get(o.keys[r]);
    if (first === undefined) {
      firstRow.set(o.keys[r], r);
      todo.push(r);
    } else dupes.push([r, first]);
  }
  const cached = hi - lo - todo.length - dupes.length;
  const of = o.shard ? `${hi - lo} rows of shard ${o.shard.index}/${o.shard.count} (rows ${lo}..${hi - 1})` : `${n} rows`;
  if (cached > 0) o.log.info(o.label, `${cached} of ${of} from the embedding cache`, { cached, todo: todo.length });

  const batches: number[][] = [];
  for (let i = 0; i < todo.length; i += o.batchSize) batches.push(todo.slice(i, i + o.batchSize));
  const prefetch = Math.max(1, o.prefetch ?? 2);
  const prepared: Promise<P>[] = [];
  const start = (b: number) => {
    if (b < batches.length && !prepared[b]) {
      const p = o.prepare(batches[b]);
      p.catch(() => undefined); // surfaced when awaited
      prepared[b] = p;
    }
  };

  let pendingRows: number[] = [];
  const flush = () => {
    if (pendingRows.length === 0) return;
    const block = new Float32Array(pendingRows.length * dim);
    const flags = new Uint8Array(pendingRows.length);
    pendingRows.forEach((r, i) => {
      block.set(data.subarray(r * stride, r * stride + dim), i * dim);
      flags[i] = missing[r];
    });
    cache.write(
      pendingRows.map((r) => o.keys[r]),
      block,
      flags,
    );
    pendingRows = [];
  };

  const bar = todo.length ? o.log.progress(o.label, todo.length) : null;
  let computed = 0;
  try {
    for (let b = 0; b < Math.min(prefetch, batches.length); b++) start(b);
    for (let b = 0; b < batches.length; b++) {
      const rows = batches[b];
      const input = await prepared[b];
      delete prepared[b];
      start(b + prefetch);
      const out = await o.run(input, rows);
      if (out.data.length !== rows.length * dim) throw new Error(`${o.label}: batch gave ${out.data.length} floats for ${rows.length} rows of ${dim}`);
      if (o.normalize ?? true) l2normalize(out.data, dim);
      rows.forEach((r, i) => {
        if (out.missing[i]) {
          missing[r] = 1;
          data.fill(0, r * stride, r * stride + dim);
        } else data.set(out.data.subarray(i * dim, (i + 1) * dim), r * stride);
      });
      pendingRows.push(...rows);
      computed += rows.length;
      if (pendingRows.length >= o.shardRows) flush();
      bar?.tick(rows.length);
    }
    flush();
  } finally {
    bar?.done();
  }
  for (const [r, first] of dupes) {
    data.copyWithin(r * stride, first * stride, first * stride + dim);
    missing[r] = missing[first];
  }
  let nMissing = 0;
  for (let r = lo; r < hi; r++) nMissing += missing[r];
  o.log.count(`${o.label}.computed`, computed);
  o.log.count(`${o.label}.cached`, cached);
  if (nMissing) o.log.count(`${o.label}.missing`, nMissing);
  return { data, missing, computed, cached };
}
