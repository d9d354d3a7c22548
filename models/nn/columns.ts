/**
 * @file Column inputs for the learners that split their columns into parts (attention-lstm's
 * tokens, gated-fusion's experts): raw float32 rows of the Matrix go into the graph as they
 * are (`rows` [n, cols]); inside it numeric columns are standardised with the training rows'
 * mean and scale (missing or infinite -> 0) and each categorical column looks up a learned
 * embedding (codes above the training maximum, negative or missing -> one 'unknown' row).
 * `part(cols)` is then any subset of columns as one [n, width] input, in the order given.
 *
 * @example
 *   const enc = fitColumnEncoding(X, 4);
 *   const params = embeddingParams(enc, rng);            // emb.<c> per categorical column
 *   const cols = new ColumnInputs(g, enc, w);            // w: parameter name -> graph input
 *   const h = g.matmul(cols.part([0, 3, 5]), w.get('W')!);
 */
import type { Matrix } from '../../core/matrix.ts';
import { columnStats } from '../../core/matrix.ts';
import type { Random } from '../../core/random.ts';
import type { Graph, T } from './graph.ts';
import type { Param } from './params.ts';

export type ColumnCode = { type: 'num'; mean: number; scale: number } | { type: 'cat'; levels: number; dim: number };

export interface ColumnEncoding {
  names: string[];
  columns: ColumnCode[];
}

/** Embedding width for a table of `rows` rows when none is set: min(16, round(1.6 rows^0.56)). */
export function autoEmbeddingDim(rows: number): number {
  return Math.min(16, Math.max(2, Math.round(1.6 * Math.pow(rows, 0.56))));
}

/** Scaling and table sizes from the training rows (one row-major pass each). */
export function fitColumnEncoding(X: Matrix, embeddingDim = 0): ColumnEncoding {
  const stats = columnStats(X);
  const max = new Float64Array(X.cols).fill(-1);
  const cats = X.categorical.flatMap((c, i) => (c ? [i] : []));
  if (cats.length)
    for (let r = 0; r < X.rows; r++)
      for (const c of cats) {
        const v = X.data[r * X.cols + c];
        if (v > max[c]) max[c] = v;
      }
  return {
    names: [...X.names],
    columns: stats.map((s, c) => {
      if (!X.categorical[c]) return { type: 'num', mean: s.mean, scale: s.scale };
      const levels = Math.floor(max[c]) + 1;
      return { type: 'cat', levels, dim: embeddingDim || autoEmbeddingDim(levels + 1) };
    }),
  };
}

/** Width of part(cols): 1 per numeric column, the embedding width per categorical one. */
export function partWidth(enc: ColumnEncoding, cols: readonly number[]): number {
  return cols.reduce((s, c) => s + (enc.columns[c].type === 'cat' ? (enc.columns[c] as { dim: number }).dim : 1), 0);
}

/** One embedding table `emb.<c>` per categorical column, N(0, 0.05). */
export function embeddingParams(enc: ColumnEncoding, rng: Random): Param[] {
  const out: Param[] = [];
  enc.columns.forEach((col, c) => {
    if (col.type !== 'cat') return;
    const data = new Float32Array((col.levels + 1) * col.dim);
    for (let i = 0; i < data.length; i++) data[i] = 0.05 * rng.normal();
    out.push({ name: `emb.${c}`, shape: [col.levels + 1, col.dim], data, trainable: true, decay: true });
  });
  return out;
}

export function checkColumns(kind: string, enc: { columns: readonly unknown[] }, X: Matrix): void {
  if (X.cols !== enc.columns.length) throw new Error(`${kind}: fitted on ${enc.columns.length} columns, got ${X.cols}`);
}

/** True where v is NaN or +-Inf (v - v is NaN for both). */
export function nonFinite(g: Graph, v: T): T {
  return g.emit('IsNaN', [g.sub(v, v)], [{ shape: v.shape, dtype: 'bool' }])[0];
}

/**
 * Rows of the embedding `table` for category codes `v` [n] (float): codes in [0, levels) by
 * their floor, anything else (above the training maximum, negative, missing) the 'unknown'
 * row `levels`.
 */
export function embeddingLookup(g: Graph, v: T, levels: number, table: T): T {
  const ok = g.and(g.emit('GreaterOrEqual', [v, g.scalar(0)], [{ shape: v.shape, dtype: 'bool' }])[0], g.less(v, g.scalar(levels)));
  const floor = g.emit('Floor', [v], [{ shape: v.shape }])[0];
  return g.gather(table, g.cast(g.where(ok, floor, g.scalar(levels)), 'int64'));
}

/** The graph input `rows` and its encoded parts. */
export class ColumnInputs {
  readonly rows: T;
  private readonly z: T | null;

  constructor(
    private readonly g: Graph,
    private readonly enc: ColumnEncoding,
    private readonly w: ReadonlyMap<string, T>,
  ) {
    const cols = enc.columns.length;
    this.rows = g.input('rows', [-1, cols]);
    const nums = enc.columns.filter((c) => c.type === 'num');
    if (!nums.length) {
      this.z = null;
      return;
    }
    // Standardised values of every column (categorical ones pass through unused).
    const mean = g.constant(Float32Array.from(enc.columns, (c) => (c.type === 'num' ? c.mean : 0)), [cols]);
    const inv = g.constant(Float32Array.from(enc.columns, (c) => (c.type === 'num' ? 1 / c.scale : 1)), [cols]);
    const z = g.mul(g.sub(this.rows, mean), inv);
    this.z = g.where(nonFinite(g, z), g.scalar(0), z);
  }

  private take(x: T, cols: readonly number[]): T {
    if (cols.length === x.shape[1] && cols.every((c, i) => c === i)) return x;
    return this.g.emit('Gather', [x, this.g.constant(Int32Array.from(cols), [cols.length])], [{ shape: [-1, cols.length] }], { axis: 1 })[0];
  }

  /** Columns `cols` as they are in the rows (flags such as a history slot's 0/1 `present`). */
  raw(cols: readonly number[]): T {
    return this.take(this.rows, cols);
  }

  /** Columns `cols` encoded, side by side in the given order (runs of numeric columns gathered at once). */
  part(cols: readonly number[]): T {
    const g = this.g;
    const pieces: T[] = [];
    let run: number[] = [];
    const flush = () => {
      if (run.length) pieces.push(this.take(this.z!, run));
      run = [];
    };
    for (const c of cols) {
      const col = this.enc.columns[c];
      if (col.type === 'num') {
        run.push(c);
        continue;
      }
      flush();
      pieces.push(embeddingLookup(g, g.reshape(this.take(this.rows, [c]), [-1]), col.levels, this.w.get(`emb.${c}`)!));
    }
    flush();
    if (!pieces.length) throw new Error('columns: an empty part');
    return pieces.length === 1 ? pieces[0] : g.concat(pieces, 1);
  }
}
