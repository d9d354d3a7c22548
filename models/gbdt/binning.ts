/**
 * @file Feature binning. Each numeric feature gets up to max_bin quantile bins (upper bounds
 * found on a seeded sample of rows) plus one bin for missing values; each categorical feature
 * gets one bin per frequent category code plus an "other / missing" bin. The binned training
 * set is one column-major uint8 matrix in a SharedArrayBuffer so worker threads read it as is.
 *
 * @example
 *   const mappers = fitBinMappers(X, 255, 200_000, new Random(1));
 *   const bins = binMatrix(X, mappers, true); // Uint8Array, feature f at [f * rows, (f + 1) * rows)
 */
import type { Matrix } from '../../core/matrix.ts';
import type { Random } from '../../core/random.ts';

export interface BinMapper {
  /** Categorical features bin category codes, numeric ones bin values by upper bounds. */
  categorical: boolean;
  /** Number of bins including the last (missing / other) bin; at most 256. */
  numBins: number;
  /** Numeric: upper bound of value bin b (value <= bound[b]); length numBins - 1, last is +Infinity. */
  bounds: Float64Array;
  /** Categorical: category code held by bin b (length numBins - 1). */
  cats: Int32Array;
  /** Categorical: code -> bin (codes outside go to the last bin). */
  catToBin: Int32Array;
}

/** Index of the missing (numeric) or other/missing (categorical) bin. */
export const missingBin = (m: BinMapper): number => m.numBins - 1;

function sampleRows(rows: number, max: number, rng: Random): Int32Array {
  if (rows <= max) return Int32Array.from({ length: rows }, (_, i) => i);
  // Selection sampling (Knuth S): ordered, seeded, exactly `max` rows.
  const out = new Int32Array(max);
  let k = 0;
  for (let i = 0; i < rows && k < max; i++) {
    if (rng.next() * (rows - i) < max - k) out[k++] = i;
  }
  return out;
}

function numericMapper(values: Float32Array, maxBin: number): BinMapper {
  values.sort();
  const total = values.length;
  let distinct = 0;
  for (let i = 0; i < total; i++) if (i === 0 || values[i] !== values[i - 1]) distinct++;
  const bounds: number[] = [];
  if (distinct <= maxBin) {
    for (let i = 1; i < total; i++) if (values[i] !== values[i - 1]) bounds.push((values[i - 1] + values[i]) / 2);
  } else {
    // Greedy equal-count cuts between distinct values: a heavy value never straddles two bins.
    let remaining = total;
    let binsLeft = maxBin;
    let cum = 0;
    let target = remaining / binsLeft;
    for (let i = 0; i + 1 < total && binsLeft > 1; i++) {
      cum++;
      if (values[i + 1] !== values[i] && cum >= target) {
        bounds.push((values[i] + values[i + 1]) / 2);
        remaining -= cum;
        cum = 0;
        binsLeft--;
        target = remaining / binsLeft;
      }
    }
  }
  bounds.push(Infinity);
  return { categorical: false, numBins: bounds.length + 1, bounds: Float64Array.from(bounds), cats: new Int32Array(0), catToBin: new Int32Array(0) };
}

function categoricalMapper(values: Float32Array, maxBin: number): BinMapper {
  const count = new Map<number, number>();
  for (const v of values) {
    if (v < 0 || !Number.isInteger(v)) continue;
    count.set(v, (count.get(v) ?? 0) + 1);
  }
  // Most frequent first; ties by code so the mapping is deterministic.
  const cats = [...count.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, maxBin).map((e) => e[0]);
  const maxCode = cats.reduce((m, c) => Math.max(m, c), -1);
  const catToBin = new Int32Array(maxCode + 1).fill(cats.length);
  cats.forEach((c, b) => (catToBin[c] = b));
  return { categorical: true, numBins: cats.length + 1, bounds: new Float64Array(0), cats: Int32Array.from(cats), catToBin };
}

/** Finds bin boundaries for every column of X from a seeded row sample. */
export function fitBinMappers(X: Matrix, maxBin: number, sampleCount: number, rng: Random): BinMapper[] {
  const rows = sampleRows(X.rows, sampleCount, rng);
  const out: BinMapper[] = [];
  const buf = new Float32Array(rows.length);
  for (let c = 0; c < X.cols; c++) {
    let k = 0;
    for (let i = 0; i < rows.length; i++) {
      const v = X.data[rows[i] * X.cols + c];
      if (v === v) buf[k++] = v;
    }
    const vals = buf.slice(0, k);
    out.push(X.categorical[c] ? categoricalMapper(vals, Math.min(maxBin, 255)) : numericMapper(vals, maxBin));
  }
  return out;
}

/** Bin of one value. */
export function binValue(m: BinMapper, v: number): number {
  if (v !== v) return m.numBins - 1;
  if (m.categorical) return v >= 0 && v < m.catToBin.length && Number.isInteger(v) ? m.catToBin[v] : m.numBins - 1;
  const b = m.bounds;
  let lo = 0;
  let hi = b.length - 1; // b[hi] = Infinity
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v <= b[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Bins all of X into a column-major uint8 matrix: bin of (row r, feature f) at f * rows + r.
 * With `shared` the buffer is a SharedArrayBuffer that worker threads can read.
 */
export function binMatrix(X: Matrix, mappers: readonly BinMapper[], shared: boolean): Uint8Array {
  const n = X.rows;
  const F = X.cols;
  const out = new Uint8Array(shared ? new SharedArrayBuffer(n * F) : new ArrayBuffer(n * F));
  const data = X.data;
  for (let f = 0; f < F; f++) {
    const m = mappers[f];
    const col = out.subarray(f * n, (f + 1) * n);
    if (m.categorical) {
      for (let r = 0; r < n; r++) col[r] = binValue(m, data[r * F + f]);
      continue;
    }
    const b = m.bounds;
    const nb = b.length;
    const miss = m.numBins - 1;
    for (let r = 0; r < n; r++) {
      const v = data[r * F + f];
      if (v !== v) {
        col[r] = miss;
        continue;
      }
      let lo = 0;
      let hi = nb - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (v <= b[mid]) hi = mid;
        else lo = mid + 1;
      }
      col[r] = lo;
    }
  }
  return out;
}
