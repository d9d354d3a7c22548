/**
 * @file `ridge`: L2-regularised linear regression, solved in closed form (Cholesky); for
 * binary tasks L2-regularised logistic regression, fitted by Newton steps (IRLS) on the same
 * design, predicting probabilities. Numeric columns are standardised on the training rows
 * (missing -> mean, i.e. 0 after scaling; clipped to 8 standard deviations); categorical
 * columns are one-hot encoded over their most frequent levels. A fast, stable baseline and a
 * good stacker. XᵀX (XᵀWX for each Newton step) is built from float32 row chunks by the MLAS
 * matrix product (core/linalg/gemm.ts) and summed in float64, so fit is async.
 *
 * @example
 *   - id: ridge
 *     kind: ridge
 *     params: { alpha: 10 }
 */
import { z } from 'zod';
import { CholeskyDecomposition, Matrix as MlMatrix } from 'ml-matrix';
import { gemm } from '../core/linalg/gemm.ts';
import { columnStats, type Matrix } from '../core/matrix.ts';
import { defineModel, type FittedModel } from './model.ts';

interface RidgeState {
  names: string[];
  /** Per input column: mean and scale (numeric) or the one-hot levels (categorical). */
  columns: ({ type: 'num'; mean: number; scale: number } | { type: 'cat'; levels: number[] })[];
  coef: number[];
  intercept: number;
  sigmoid: boolean;
}

/** Standardised values are clipped to +-CLIP standard deviations. */
const CLIP = 8;
/** Rows per float32 XᵀX chunk: 4 MB at 500 design columns; 1024-8192 measured alike. */
const CHUNK_ROWS = 2048;

/**
 * The columns flattened for the row loops (plain arrays; the per-column objects differ in
 * shape, and reading them per value was the slow part): where each column's design entries
 * start, its mean and scale (numeric), and its kept level -> entry (categorical).
 */
interface Layout {
  width: number;
  offset: Int32Array;
  mean: Float64Array;
  scale: Float64Array;
  levelIndex: (Map<number, number> | null)[];
}

function layout(columns: RidgeState['columns']): Layout {
  const lay: Layout = {
    width: 0,
    offset: new Int32Array(columns.length),
    mean: new Float64Array(columns.length),
    scale: new Float64Array(columns.length),
    levelIndex: [],
  };
  columns.forEach((col, c) => {
    lay.offset[c] = lay.width;
    if (col.type === 'num') {
      lay.mean[c] = col.mean;
      lay.scale[c] = col.scale;
    }
    lay.levelIndex.push(col.type === 'cat' ? new Map(col.levels.map((v, i) => [v, i])) : null);
    lay.width += col.type === 'num' ? 1 : col.levels.length;
  });
  return lay;
}

/**
 * Encodes row r of X sparsely: the design row has one nonzero per input column, so write its
 * index into idx[c] (-1 for a category outside the kept levels) and its value into val[c].
 */
function encodeRow(lay: Layout, X: Matrix, r: number, idx: Int32Array, val: Float64Array): void {
  const base = r * X.cols;
  for (let c = 0; c < X.cols; c++) {
    const v = X.data[base + c];
    const levels = lay.levelIndex[c];
    if (levels === null) {
      // Clipped: a value far outside the training range (rare flag, new extreme) must not
      // swing a linear prediction by many label units.
      idx[c] = lay.offset[c];
      val[c] = Number.isFinite(v) ? Math.max(-CLIP, Math.min(CLIP, (v - lay.mean[c]) / lay.scale[c])) : 0;
    } else {
      const i = levels.get(v);
      idx[c] = i === undefined ? -1 : lay.offset[c] + i;
      val[c] = 1;
    }
  }
}

/**
 * Σ_r scale[r]² (e_r + shift)(e_r + shift)ᵀ over the encoded design rows e_r, width =
 * shift.length (the encoded columns, plus any constant columns shift alone fills). Rows go
 * through float32 chunks and the MLAS product (a JS double loop took minutes at full size);
 * each chunk's product is added into float64, so float32 rounding stays within one chunk.
 */
async function gram(lay: Layout, X: Matrix, shift: Float64Array, scale: Float64Array | null): Promise<Float64Array> {
  const n = X.rows;
  const width = shift.length;
  const idx = new Int32Array(X.cols);
  const val = new Float64Array(X.cols);
  const chunkRows = Math.max(1, Math.min(n, CHUNK_ROWS));
  const chunk = new Float32Array(chunkRows * width);
  const shift32 = Float32Array.from(shift);
  const out = new Float64Array(width * width);
  for (let r0 = 0; r0 < n; r0 += chunkRows) {
    const rows = Math.min(chunkRows, n - r0);
    for (let i = 0; i < rows; i++) {
      const r = r0 + i;
      const at = i * width;
      chunk.set(shift32, at);
      encodeRow(lay, X, r, idx, val);
      for (let c = 0; c < X.cols; c++) if (idx[c] >= 0) chunk[at + idx[c]] = val[c] + shift[idx[c]];
      const s = scale ? scale[r] : 1;
      if (s !== 1) for (let k = at; k < at + width; k++) chunk[k] *= s;
    }
    const a = chunk.subarray(0, rows * width);
    const p = await gemm(a, a, width, rows, width, true);
    for (let k = 0; k < p.length; k++) out[k] += p[k];
  }
  return out;
}

/** Solves (G + diag(penalty)) x = b for symmetric G (upper triangle read) by Cholesky. */
function solveSym(g: Float64Array, penalty: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const width = b.length;
  const A = new MlMatrix(width, width);
  for (let i = 0; i < width; i++)
    for (let j = i; j < width; j++) {
      const v = g[i * width + j] + (i === j ? penalty[i] : 0);
      A.set(i, j, v);
      A.set(j, i, v);
    }
  return new CholeskyDecomposition(A).solve(MlMatrix.columnVector(Array.from(b))).getColumn(0);
}

/** log(1 + e^x) without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/**
 * L2-penalised logistic regression on the encoded design plus an unpenalised intercept:
 * minimises Σ w (softplus(η) - y η) + alpha/2 |β|² by Newton steps, each a weighted least
 * squares (IRLS) whose XᵀWX comes from `gram`; a step that raises the loss is halved. Soft
 * labels in [0, 1] (pseudo-labels) are fine.
 */
async function fitLogistic(lay: Layout, X: Matrix, y: Float64Array, w: Float64Array, alpha: number, maxIter: number, log?: (m: string) => void): Promise<{ coef: number[]; intercept: number }> {
  const n = X.rows;
  const width = lay.width;
  const idx = new Int32Array(X.cols);
  const val = new Float64Array(X.cols);
  let wsum = 0;
  let ybar = 0;
  for (let r = 0; r < n; r++) {
    if (!(y[r] >= 0 && y[r] <= 1)) throw new Error(`ridge (logistic, task: binary): label ${y[r]} at row ${r}; labels must be in [0, 1]`);
    wsum += w[r];
    ybar += w[r] * y[r];
  }
  if (!(wsum > 0)) throw new Error('ridge: no rows with weight > 0');
  ybar = Math.min(1 - 1e-6, Math.max(1e-6, ybar / wsum));
  // β[0..width) the design coefficients, β[width] the intercept, started at the base rate.
  let beta = new Float64Array(width + 1);
  beta[width] = Math.log(ybar / (1 - ybar));
  const penalty = Float64Array.from({ length: width + 1 }, (_, k) => (k < width ? alpha : 0) + 1e-9);
  const shift = new Float64Array(width + 1);
  shift[width] = 1; // the intercept column
  const scale = new Float64Array(n);
  let prev: Float64Array | null = null;
  let prevLoss = Infinity;
  let step: Float64Array | null = null;
  let iter = 0;
  for (let halvings = 0; iter < maxIter; ) {
    // Loss, gradient and IRLS weights at β, one sparse float64 pass.
    const grad = new Float64Array(width + 1);
    let loss = 0;
    for (let k = 0; k < width; k++) {
      loss += 0.5 * alpha * beta[k] * beta[k];
      grad[k] = -alpha * beta[k];
    }
    for (let r = 0; r < n; r++) {
      encodeRow(lay, X, r, idx, val);
      let eta = beta[width];
      for (let c = 0; c < X.cols; c++) if (idx[c] >= 0) eta += val[c] * beta[idx[c]];
      const p = 1 / (1 + Math.exp(-eta));
      loss += w[r] * (softplus(eta) - y[r] * eta);
      const g = w[r] * (y[r] - p);
      for (let c = 0; c < X.cols; c++) if (idx[c] >= 0) grad[idx[c]] += g * val[c];
      grad[width] += g;
      scale[r] = Math.sqrt(w[r] * Math.max(p * (1 - p), 1e-12));
    }
    if (prev && step && loss > prevLoss * (1 + 1e-12) && halvings < 30) {
      // Overshot: go back half way along the same step.
      halvings++;
      for (let k = 0; k <= width; k++) step[k] /= 2;
      beta = prev.map((b, k) => b + step![k]);
      continue;
    }
    halvings = 0;
    if (step && step.reduce((m, v) => Math.max(m, Math.abs(v)), 0) < 1e-7) break;
    const delta = solveSym(await gram(lay, X, shift, scale), penalty, grad);
    prev = beta;
    prevLoss = loss;
    step = Float64Array.from(delta);
    beta = beta.map((b, k) => b + delta[k]);
    iter++;
  }
  log?.(`ridge (logistic): ${n} rows, ${width} design columns, ${iter} Newton steps`);
  return { coef: Array.from(beta.subarray(0, width)), intercept: beta[width] };
}

function fitted(state: RidgeState): FittedModel {
  const lay = layout(state.columns);
  return Object.freeze({
    kind: 'ridge',
    predict(X: Matrix): Float64Array {
      if (X.cols !== state.columns.length) throw new Error(`ridge: fitted on ${state.columns.length} columns, got ${X.cols}`);
      const idx = new Int32Array(X.cols);
      const val = new Float64Array(X.cols);
      const out = new Float64Array(X.rows);
      for (let r = 0; r < X.rows; r++) {
        encodeRow(lay, X, r, idx, val);
        let s = state.intercept;
        for (let c = 0; c < X.cols; c++) if (idx[c] >= 0) s += val[c] * state.coef[idx[c]];
        out[r] = state.sigmoid ? 1 / (1 + Math.exp(-s)) : s;
      }
      return out;
    },
    importance(): Record<string, number> {
      const imp: Record<string, number> = {};
      let k = 0;
      state.columns.forEach((col, c) => {
        const n = col.type === 'num' ? 1 : col.levels.length;
        let s = 0;
        for (let j = 0; j < n; j++) s += Math.abs(state.coef[k + j]);
        imp[state.names[c]] = s;
        k += n;
      });
      return imp;
    },
    toJSON: () => ({ kind: 'ridge', ...state }),
  });
}

export const ridge = defineModel({
  kind: 'ridge',
  summary: 'L2-regularised linear regression, logistic regression for binary tasks (standardised inputs, one-hot categoricals)',
  importanceMethod: '|coefficient| on standardised inputs (= |raw coefficient| x column std; one-hot levels summed)',
  params: z
    .object({
      alpha: z.number().min(0).default(1).describe('L2 penalty on standardised coefficients'),
      max_levels: z.number().int().min(1).default(50).describe('one-hot levels kept per categorical column (most frequent)'),
      max_iter: z.number().int().min(1).default(50).describe('task: binary: at most this many Newton steps of the logistic fit (it usually converges in under 10)'),
    })
    .strict(),
  async fit(X, y, params, ctx) {
    const n = X.rows;
    const w = ctx.weight ?? new Float64Array(n).fill(1);
    const columns: RidgeState['columns'] = [];
    const stats = columnStats(X);
    for (let c = 0; c < X.cols; c++) {
      if (X.categorical[c]) {
        const counts = new Map<number, number>();
        for (let r = 0; r < n; r++) {
          const v = X.data[r * X.cols + c];
          if (Number.isFinite(v)) counts.set(v, (counts.get(v) ?? 0) + 1);
        }
        const levels = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, params.max_levels).map(([v]) => v);
        columns.push({ type: 'cat', levels: levels.sort((a, b) => a - b) });
      } else {
        columns.push({ type: 'num', mean: stats[c].mean, scale: stats[c].scale });
      }
    }
    const lay = layout(columns);
    for (let r = 0; r < n; r++) if (!(w[r] >= 0)) throw new Error(`ridge: weight ${w[r]} at row ${r}; weights must be >= 0`);
    if (ctx.task === 'binary') {
      const { coef, intercept } = await fitLogistic(lay, X, y, w, params.alpha, params.max_iter, ctx.log);
      return fitted({ names: [...X.names], columns, coef, intercept, sigmoid: true });
    }
    const width = lay.width;
    // Centre y and the design by weighted means so the intercept is not penalised.
    let wsum = 0;
    let ymean = 0;
    for (let r = 0; r < n; r++) {
      wsum += w[r];
      ymean += w[r] * y[r];
    }
    if (!(wsum > 0)) throw new Error('ridge: no rows with weight > 0');
    ymean /= wsum;
    // First pass, float64, over the nonzeros only: weighted means and Xᵀ(y - ȳ) of the
    // uncentred design; centring changes xty by xmean·Σw(y - ȳ), zero up to rounding.
    const idx = new Int32Array(X.cols);
    const val = new Float64Array(X.cols);
    const xmean = new Float64Array(width);
    const xty = new Float64Array(width);
    let wysum = 0;
    for (let r = 0; r < n; r++) {
      encodeRow(lay, X, r, idx, val);
      const wr = w[r];
      const wy = wr * (y[r] - ymean);
      wysum += wy;
      for (let c = 0; c < X.cols; c++) {
        const k = idx[c];
        if (k < 0) continue;
        xmean[k] += wr * val[c];
        xty[k] += wy * val[c];
      }
    }
    for (let k = 0; k < width; k++) {
      xmean[k] /= wsum;
      xty[k] -= xmean[k] * wysum;
    }
    // Second pass: XᵀX of the centred design, rows scaled by sqrt(weight).
    const xtx = await gram(lay, X, xmean.map((m) => -m), ctx.weight ? w.map(Math.sqrt) : null);
    const coef = solveSym(xtx, new Float64Array(width).fill(params.alpha + 1e-9), xty);
    let intercept = ymean;
    for (let k = 0; k < width; k++) intercept -= coef[k] * xmean[k];
    ctx.log?.(`ridge: ${n} rows, ${width} design columns`);
    return fitted({ names: [...X.names], columns, coef, intercept, sigmoid: false });
  },
  load(json) {
    const s = json as RidgeState & { kind: string };
    if (s?.kind !== 'ridge') throw new Error('ridge.load: not a ridge model');
    return fitted({ names: s.names, columns: s.columns, coef: s.coef, intercept: s.intercept, sigmoid: s.sigmoid });
  },
});
