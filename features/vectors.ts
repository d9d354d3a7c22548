/**
 * @file Helpers for kinds that read another block as vectors (embeddings): pick the input block
 * named in params, take its vector columns (everything except categorical columns and `missing`
 * flag columns), find missing rows (NaN anywhere, a set `missing` flag, or optionally an
 * all-zero vector as embedding kinds write for unreadable inputs), and L2-normalise rows.
 *
 * @example
 *   const block = inputBlock(ctx.inputs, params.input, 'kmeans');
 *   const v = blockVectors(block, { zeroIsMissing: true, normalize: true });
 *   v.data[r * v.dim + j]; v.missing[r] === 1;
 */
import type { Matrix } from '../core/matrix.ts';
import { UserError } from '../core/errors.ts';

/** Column names that are missing-value flags, prefixed by the block id or not (`clip.missing`). */
export const MISSING_FLAG = /(^|[._])missing$/;

export interface Vectors {
  readonly rows: number;
  readonly dim: number;
  /** rows x dim, row-major; rows flagged missing are left as read (do not use them). */
  readonly data: Float64Array;
  /** 1 where the row has no usable vector. */
  readonly missing: Uint8Array;
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

export function blockVectors(m: Matrix, opts: { zeroIsMissing?: boolean; normalize?: boolean } = {}): Vectors {
  const keep: number[] = [];
  const flags: number[] = [];
  for (let c = 0; c < m.cols; c++) {
    if (MISSING_FLAG.test(m.names[c])) flags.push(c);
    else if (!m.categorical[c]) keep.push(c);
  }
  const dim = keep.length;
  const data = new Float64Array(m.rows * dim);
  const missing = new Uint8Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    const base = r * m.cols;
    let bad = false;
    let norm = 0;
    for (let j = 0; j < dim; j++) {
      const x = m.data[base + keep[j]];
      if (Number.isNaN(x)) bad = true;
      data[r * dim + j] = x;
      norm += x * x;
    }
    for (const c of flags) if (m.data[base + c] > 0) bad = true;
    if (dim === 0 || (opts.zeroIsMissing && norm === 0)) bad = true;
    if (bad) {
      missing[r] = 1;
      continue;
    }
    if (opts.normalize) {
      const inv = 1 / Math.sqrt(norm);
      if (Number.isFinite(inv)) for (let j = 0; j < dim; j++) data[r * dim + j] *= inv;
    }
  }
  return { rows: m.rows, dim, data, missing };
}

/** Indices of rows that have a vector. */
export function presentRows(v: Vectors): Int32Array {
  const out: number[] = [];
  for (let r = 0; r < v.rows; r++) if (!v.missing[r]) out.push(r);
  return Int32Array.from(out);
}
