/**
 * @file Helpers for kinds that read another block as vectors (embeddings): pick the input block
 * named in params, take its vector columns (everything except categorical columns and `missing`
 * flag columns), find missing rows (NaN anywhere, a set `missing` flag, or optionally an
 * all-zero vector as embedding kinds write for unreadable inputs), and L2-normalise rows.
 * Nothing is copied: a block of 486K x 512 floats is read where it lies, a row or a chunk of
 * rows at a time, with the normalisation applied as it is read.
 *
 * @example
 *   const block = inputBlock(ctx.inputs, params.input, 'kmeans');
 *   const v = blockVectors(block, { zeroIsMissing: true, normalize: true });
 *   v.missing[r] === 1; readRow(v, r, row64);
 *   for await (const c of rowChunks(v, presentRows(v))) gemm(c.data, b, c.count, v.dim, k);
 */
import type { Matrix } from '../core/matrix.ts';
import { UserError } from '../core/errors.ts';

/** Column names that are missing-value flags, prefixed by the block id or not (`clip.missing`). */
export const MISSING_FLAG = /(^|[._])missing$/;

/** Rows per chunk of {@link rowChunks}: 4096 x 512 float32 is 8 MB. */
export const CHUNK_ROWS = 4096;

/** A block seen as vectors: row r's vector is block.data[r * block.cols + cols[j]] * scale[r]. */
export interface Vectors {
  readonly block: Matrix;
  readonly rows: number;
  readonly dim: number;
  /** The block's vector columns. */
  readonly cols: Int32Array;
  /** 1 where the row has no usable vector. */
  readonly missing: Uint8Array;
  /** Factor applied to each row as it is read: 1 / its L2 norm when normalising, else 1. */
  readonly scale: Float64Array;
}

/**
 * The input block a kind reads: the one named `name` (which must be among the entry's
 * `inputs`), or the only input when `name` is not given.
 */
export function inputBlock(inputs: Readonly<Record<string, Matrix>>, name: string | undefined, kind: string, role = 'input'): Matrix {
  const ids = Object.keys(inputs);
  if (name === undefined) {
    if (ids.length === 1) return inputs[ids[0]];
    throw new UserError(
      ids.length === 0
        ? `${kind}: no input block; list the block to read under the entry's \`inputs:\``
        : `${kind}: ${ids.length} input blocks (${ids.join(', ')}); name the one to read with params.${role}`,
    );
  }
  const m = inputs[name];
  if (!m) throw new UserError(`${kind}: params.${role} is "${name}", which is not among this entry's inputs (${ids.join(', ') || 'none'}); add it to \`inputs:\``);
  return m;
}

/** One pass over the block for missing rows and norms; the values stay where they are. */
export function blockVectors(m: Matrix, opts: { zeroIsMissing?: boolean; normalize?: boolean } = {}): Vectors {
  const keep: number[] = [];
  const flags: number[] = [];
  for (let c = 0; c < m.cols; c++) {
    if (MISSING_FLAG.test(m.names[c])) flags.push(c);
    else if (!m.categorical[c]) keep.push(c);
  }
  const cols = Int32Array.from(keep);
  const dim = cols.length;
  const missing = new Uint8Array(m.rows);
  const scale = new Float64Array(m.rows).fill(1);
  for (let r = 0; r < m.rows; r++) {
    const base = r * m.cols;
    let norm = 0;
    for (let j = 0; j < dim; j++) {
      const x = m.data[base + cols[j]];
      norm += x * x; // NaN stays NaN
    }
    let bad = Number.isNaN(norm) || dim === 0 || (opts.zeroIsMissing === true && norm === 0);
    for (const c of flags) if (m.data[base + c] > 0) bad = true;
    if (bad) missing[r] = 1;
    else if (opts.normalize) {
      const inv = 1 / Math.sqrt(norm);
      if (Number.isFinite(inv)) scale[r] = inv;
    }
  }
  return { block: m, rows: m.rows, dim, cols, missing, scale };
}

/** Row r's vector (scaled) into out[offset .. offset + dim), in float64: exactly x * scale. */
export function readRow(v: Vectors, r: number, out: Float64Array, offset = 0): void {
  const { data, cols: stride } = v.block;
  const base = r * stride;
  const s = v.scale[r];
  for (let j = 0; j < v.dim; j++) out[offset + j] = data[base + v.cols[j]] * s;
}

/**
 * The given rows in chunks of at most `size`, each as a float32 chunk (count x dim, row-major,
 * one reused buffer: use it before asking for the next) of scaled vectors, minus `centre` when
 * given. `start` is the position of the chunk's first row in `rows`.
 */
export function* rowChunks(
  v: Vectors,
  rows: Int32Array,
  opts: { centre?: Float64Array; size?: number } = {},
): Generator<{ start: number; count: number; data: Float32Array }> {
  const { dim, cols, scale } = v;
  const { data, cols: stride } = v.block;
  const size = Math.max(1, Math.min(opts.size ?? CHUNK_ROWS, rows.length));
  const buf = new Float32Array(size * dim);
  const centre = opts.centre;
  for (let start = 0; start < rows.length; start += size) {
    const count = Math.min(size, rows.length - start);
    for (let i = 0; i < count; i++) {
      const r = rows[start + i];
      const base = r * stride;
      const s = scale[r];
      const o = i * dim;
      if (centre) for (let j = 0; j < dim; j++) buf[o + j] = data[base + cols[j]] * s - centre[j];
      else for (let j = 0; j < dim; j++) buf[o + j] = data[base + cols[j]] * s;
    }
    yield { start, count, data: count === size ? buf : buf.subarray(0, count * dim) };
  }
}

/** Indices of rows that have a vector. */
export function presentRows(v: Vectors): Int32Array {
  let n = 0;
  for (let r = 0; r < v.rows; r++) if (!v.missing[r]) n++;
  const out = new Int32Array(n);
  for (let r = 0, i = 0; r < v.rows; r++) if (!v.missing[r]) out[i++] = r;
  return out;
}
