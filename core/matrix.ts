/**
 * @file A dense float32 feature matrix, row-major, with column names and categorical flags.
 * Feature blocks produce them, the runner concatenates them, learners consume them.
 *
 * @example
 *   const m = createMatrix(2, 2, ['a', 'b']);
 *   m.data[m.cols * 1 + 0] = 3; // row 1, column a
 */

export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** Row-major values: element (r, c) is data[r * cols + c]. NaN means missing. */
  readonly data: Float32Array;
  readonly names: readonly string[];
  /** categorical[c] is true when column c holds integer category codes (0..k-1, NaN missing). */
  readonly categorical: readonly boolean[];
}

/** A zeroed matrix, or, given `buffer` (at least rows * cols long), a view of its start as is. */
export function createMatrix(rows: number, cols: number, names: readonly string[], categorical?: readonly boolean[], buffer?: Float32Array): Matrix {
  if (names.length !== cols) throw new Error(`matrix: ${names.length} names for ${cols} columns`);
  if (buffer && buffer.length < rows * cols) throw new Error(`matrix: a buffer of ${buffer.length} values for ${rows} x ${cols}`);
  return {
    rows,
    cols,
    data: buffer ? buffer.subarray(0, rows * cols) : new Float32Array(rows * cols),
    names,
    categorical: categorical ?? new Array<boolean>(cols).fill(false),
  };
}

/** Builds a matrix from columns (each of length rows). */
export function fromColumns(columns: ArrayLike<number>[], names: readonly string[], categorical?: readonly boolean[]): Matrix {
  const rows = columns.length ? columns[0].length : 0;
  const m = createMatrix(rows, columns.length, names, categorical);
  columns.forEach((col, c) => {
    if (col.length !== rows) throw new Error(`matrix: column ${names[c]} has ${col.length} rows, expected ${rows}`);
    for (let r = 0; r < rows; r++) m.data[r * m.cols + c] = col[r];
  });
  return m;
}

/** Copies column c into a new Float32Array. */
export function column(m: Matrix, c: number): Float32Array {
  const out = new Float32Array(m.rows);
  for (let r = 0; r < m.rows; r++) out[r] = m.data[r * m.cols + c];
  return out;
}

/** Selects rows (in the given order) into a new matrix. */
export function takeRows(m: Matrix, rows: ArrayLike<number>): Matrix {
  const out = createMatrix(rows.length, m.cols, m.names, m.categorical);
  for (let i = 0; i < rows.length; i++) {
    const src = rows[i] * m.cols;
    out.data.set(m.data.subarray(src, src + m.cols), i * m.cols);
  }
  return out;
}

/** Rows [from, to) of m as a view of its data: no copy. */
export function rowRange(m: Matrix, from: number, to: number): Matrix {
  if (from < 0 || to > m.rows || from > to) throw new Error(`matrix: rows [${from}, ${to}) of ${m.rows}`);
  return { rows: to - from, cols: m.cols, data: m.data.subarray(from * m.cols, to * m.cols), names: m.names, categorical: m.categorical };
}

/** Places blocks side by side; all must have the same row count. */
export function hconcat(blocks: readonly Matrix[]): Matrix {
  if (blocks.length === 0) throw new Error('matrix: nothing to concatenate');
  const rows = blocks[0].rows;
  const names = blocks.flatMap((b) => b.names);
  const categorical = blocks.flatMap((b) => b.categorical);
  const out = createMatrix(rows, names.length, names, categorical);
  let offset = 0;
  for (const b of blocks) {
    if (b.rows !== rows) throw new Error(`matrix: block with ${b.rows} rows beside ${rows}`);
    for (let r = 0; r < rows; r++) out.data.set(b.data.subarray(r * b.cols, (r + 1) * b.cols), r * out.cols + offset);
    offset += b.cols;
  }
  return out;
}

/** Columns of `block` for some rows: output row i reads block row rows[i] (rows null: row i). */
export interface RowSource {
  readonly block: Matrix;
  readonly rows: ArrayLike<number> | null;
}

/**
 * Writes `n` rows, starting at row `at` of `out`, from sources placed side by side (their
 * columns in order fill all of out's columns). The one copy a learner's rows go through.
 */
export function gatherInto(out: Matrix, at: number, n: number, sources: readonly RowSource[]): void {
  let offset = 0;
  for (const { block, rows } of sources) {
    const w = block.cols;
    if (offset + w > out.cols) throw new Error(`matrix: gathering ${offset + w} columns into ${out.cols}`);
    if (rows && rows.length < n) throw new Error(`matrix: ${rows.length} source rows for ${n} output rows`);
    for (let i = 0; i < n; i++) {
      const src = (rows ? rows[i] : i) * w;
      out.data.set(block.data.subarray(src, src + w), (at + i) * out.cols + offset);
    }
    offset += w;
  }
  if (offset !== out.cols) throw new Error(`matrix: gathered ${offset} of ${out.cols} columns`);
}

/** Stacks blocks with the same columns on top of each other. */
export function vconcat(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.cols) throw new Error(`matrix: stacking ${a.cols} columns on ${b.cols}`);
  const out = createMatrix(a.rows + b.rows, a.cols, a.names, a.categorical);
  out.data.set(a.data);
  out.data.set(b.data, a.data.length);
  return out;
}

/**
 * Mean and standard deviation of each column over its finite values (scale 1 when constant).
 * One row-major pass: walking a wide matrix column by column misses the cache on every read.
 */
export function columnStats(m: Matrix): { mean: number; scale: number; finite: number }[] {
  const s = new Float64Array(m.cols);
  const ss = new Float64Array(m.cols);
  const k = new Float64Array(m.cols);
  for (let r = 0; r < m.rows; r++) {
    const base = r * m.cols;
    for (let c = 0; c < m.cols; c++) {
      const v = m.data[base + c];
      if (Number.isFinite(v)) {
        s[c] += v;
        ss[c] += v * v;
        k[c]++;
      }
    }
  }
  return Array.from({ length: m.cols }, (_, c) => {
    const mean = k[c] ? s[c] / k[c] : 0;
    const sd = k[c] ? Math.sqrt(Math.max(0, ss[c] / k[c] - mean * mean)) : 0;
    return { mean, scale: sd > 1e-12 ? sd : 1, finite: k[c] };
  });
}
