/**
 * @file `ridge`: L2-regularised linear regression, solved in closed form (Cholesky). Numeric
 * columns are standardised on the training rows (missing -> mean, i.e. 0 after scaling;
 * clipped to 8 standard deviations);
 * categorical columns are one-hot encoded over their most frequent levels. A fast, stable
 * baseline and a good stacker.
 *
 * @example
 *   - id: ridge
 *     kind: ridge
 *     params: { alpha: 10 }
 */
import { z } from 'zod';
import { CholeskyDecomposition, Matrix as MlMatrix } from 'ml-matrix';
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

function designWidth(state: Pick<RidgeState, 'columns'>): number {
  return state.columns.reduce((s, c) => s + (c.type === 'num' ? 1 : c.levels.length), 0);
}

/** Writes the encoded row r of X into out (length = design width). */
function encodeRow(state: Pick<RidgeState, 'columns'>, X: Matrix, r: number, out: Float64Array): void {
  let k = 0;
  for (let c = 0; c < X.cols; c++) {
    const v = X.data[r * X.cols + c];
    const col = state.columns[c];
    if (col.type === 'num') {
      // Clipped: a value far outside the training range (rare flag, new extreme) must not
      // swing a linear prediction by many label units.
      out[k++] = Number.isFinite(v) ? Math.max(-CLIP, Math.min(CLIP, (v - col.mean) / col.scale)) : 0;
    } else {
      for (const level of col.levels) out[k++] = v === level ? 1 : 0;
    }
  }
}

function fitted(state: RidgeState): FittedModel {
  const width = designWidth(state);
  return Object.freeze({
    kind: 'ridge',
    predict(X: Matrix): Float64Array {
      if (X.cols !== state.columns.length) throw new Error(`ridge: fitted on ${state.columns.length} columns, got ${X.cols}`);
      const row = new Float64Array(width);
      const out = new Float64Array(X.rows);
      for (let r = 0; r < X.rows; r++) {
        encodeRow(state, X, r, row);
        let s = state.intercept;
        for (let k = 0; k < width; k++) s += row[k] * state.coef[k];
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
  summary: 'L2-regularised linear regression (standardised inputs, one-hot categoricals)',
  params: z
    .object({
      alpha: z.number().min(0).default(1).describe('L2 penalty on standardised coefficients'),
      max_levels: z.number().int().min(1).default(50).describe('one-hot levels kept per categorical column (most frequent)'),
    })
    .strict(),
  fit(X, y, params, ctx) {
    const n = X.rows;
    const w = ctx.weight ?? new Float64Array(n).fill(1);
    const columns: RidgeState['columns'] = [];
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
        const { mean, scale } = columnStats(X, c);
        columns.push({ type: 'num', mean, scale });
      }
    }
    const width = designWidth({ columns });
    // Centre y and the design by weighted means so the intercept is not penalised.
    let wsum = 0;
    let ymean = 0;
    for (let r = 0; r < n; r++) {
      wsum += w[r];
      ymean += w[r] * y[r];
    }
    ymean /= wsum;
    // Two passes over the rows, encoding one row at a time: no n x width design copy.
    const row = new Float64Array(width);
    const xmean = new Float64Array(width);
    for (let r = 0; r < n; r++) {
      encodeRow({ columns }, X, r, row);
      for (let k = 0; k < width; k++) xmean[k] += w[r] * row[k];
    }
    for (let k = 0; k < width; k++) xmean[k] /= wsum;
    const xtx = new Float64Array(width * width);
    const xty = new Float64Array(width);
    for (let r = 0; r < n; r++) {
      encodeRow({ columns }, X, r, row);
      for (let k = 0; k < width; k++) row[k] -= xmean[k];
      const wr = w[r];
      const yr = (y[r] - ymean) * wr;
      for (let a = 0; a < width; a++) {
        const va = row[a] * wr;
        if (va === 0) continue;
        xty[a] += row[a] * yr;
        const base = a * width;
        for (let b = a; b < width; b++) xtx[base + b] += va * row[b];
      }
    }
    const A = new MlMatrix(width, width);
    for (let a = 0; a < width; a++)
      for (let b = a; b < width; b++) {
        const v = xtx[a * width + b] + (a === b ? params.alpha + 1e-9 : 0);
        A.set(a, b, v);
        A.set(b, a, v);
      }
    const coef = new CholeskyDecomposition(A).solve(MlMatrix.columnVector(Array.from(xty))).getColumn(0);
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
