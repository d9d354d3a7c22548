/**
 * @file `ridge` learner: coefficients against a plain float64 solve of the weighted, centred
 * normal equations (the fit builds XᵀX in float32 chunks), weights, JSON round trip, unseen
 * and missing values, bad weights. Small data: the file runs in a few seconds.
 */
import { CholeskyDecomposition, Matrix as MlMatrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { fromColumns, type Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import type { FitContext } from '../../models/model.ts';
import { ridge } from '../../models/ridge.ts';

interface Saved {
  columns: ({ type: 'num'; mean: number; scale: number } | { type: 'cat'; levels: number[] })[];
  coef: number[];
  intercept: number;
}

/** Three numeric columns (one with missing values and outliers) and two categoricals. */
function data(n: number, seed: number): { X: Matrix; y: Float64Array } {
  const rng = new Random(seed);
  const a = Float64Array.from({ length: n }, () => rng.normal() * 3 + 1);
  const b = Float64Array.from({ length: n }, () => (rng.next() < 0.1 ? NaN : rng.next() < 0.01 ? 1e4 : rng.normal()));
  const c = Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
  const k1 = Float64Array.from({ length: n }, () => (rng.next() < 0.05 ? NaN : Math.floor(12 * rng.next() ** 2)));
  const k2 = Float64Array.from({ length: n }, () => rng.int(5));
  const y = Float64Array.from({ length: n }, (_, i) => 2 * a[i] - (Number.isFinite(b[i]) ? Math.min(b[i], 3) : 0) + 0.5 * c[i] + (Number.isFinite(k1[i]) ? k1[i] % 3 : 0) - k2[i] + rng.normal());
  return { X: fromColumns([a, b, c, k1, k2], ['a', 'b', 'c', 'k1', 'k2'], [false, false, false, true, true]), y };
}

/** Dense float64 design rows from the fitted encoding. */
function design(X: Matrix, s: Saved): number[][] {
  return Array.from({ length: X.rows }, (_, r) =>
    s.columns.flatMap((col, c) => {
      const v = X.data[r * X.cols + c];
      if (col.type === 'cat') return col.levels.map((l) => (v === l ? 1 : 0));
      return [Number.isFinite(v) ? Math.max(-8, Math.min(8, (v - col.mean) / col.scale)) : 0];
    }),
  );
}

/** The same model the plain way: dense float64 design from the fitted encoding, one solve. */
function reference(X: Matrix, y: Float64Array, w: Float64Array, alpha: number, s: Saved): { coef: number[]; intercept: number } {
  const rows = design(X, s);
  const width = rows[0].length;
  const wsum = w.reduce((t, v) => t + v, 0);
  const ym = y.reduce((t, v, r) => t + w[r] * v, 0) / wsum;
  const xm = Array.from({ length: width }, (_, k) => rows.reduce((t, row, r) => t + w[r] * row[k], 0) / wsum);
  const A = new MlMatrix(width, width);
  const b = new MlMatrix(width, 1);
  rows.forEach((row, r) => {
    for (let i = 0; i < width; i++) {
      b.set(i, 0, b.get(i, 0) + w[r] * (row[i] - xm[i]) * (y[r] - ym));
      for (let j = i; j < width; j++) A.set(i, j, A.get(i, j) + w[r] * (row[i] - xm[i]) * (row[j] - xm[j]));
    }
  });
  for (let i = 0; i < width; i++) {
    A.set(i, i, A.get(i, i) + alpha);
    for (let j = 0; j < i; j++) A.set(i, j, A.get(j, i));
  }
  const coef = new CholeskyDecomposition(A).solve(b).getColumn(0);
  return { coef, intercept: ym - coef.reduce((t, v, k) => t + v * xm[k], 0) };
}

const ctx: FitContext = { seed: 1, task: 'regression' };

describe('ridge', () => {
  it('matches a float64 solve of the weighted normal equations, across several row chunks', async () => {
    const { X, y } = data(5000, 3);
    const rng = new Random(9);
    const w = Float64Array.from({ length: X.rows }, () => (rng.next() < 0.1 ? 0 : rng.uniform(0.2, 2)));
    const params = ridge.params.parse({ alpha: 3, max_levels: 8 });
    const fitted = await ridge.fit(X, y, params, { ...ctx, weight: w });
    const s = fitted.toJSON() as Saved;
    expect(s.columns.map((c) => (c.type === 'cat' ? c.levels.length : 1))).toEqual([1, 1, 1, 8, 5]);
    const want = reference(X, y, w, params.alpha, s);
    const scale = Math.max(...want.coef.map(Math.abs));
    s.coef.forEach((v, k) => expect(Math.abs(v - want.coef[k])).toBeLessThan(1e-5 * scale));
    expect(Math.abs(s.intercept - want.intercept)).toBeLessThan(1e-5 * scale);
    // and it learnt the signal
    expect(s.coef[0]).toBeGreaterThan(5);
  });

  it('unit weights equal no weights; a weight of 2 equals the row twice', async () => {
    const { X, y } = data(600, 4);
    const params = ridge.params.parse({ alpha: 1 });
    const plain = (await ridge.fit(X, y, params, ctx)).toJSON() as Saved;
    const ones = (await ridge.fit(X, y, params, { ...ctx, weight: new Float64Array(X.rows).fill(1) })).toJSON() as Saved;
    expect(ones.coef).toEqual(plain.coef);
    const rows = [...Array.from({ length: X.rows }, (_, r) => r), 0, 1, 2];
    const twice = fromColumns(
      X.names.map((_, c) => rows.map((r) => X.data[r * X.cols + c])),
      X.names,
      X.categorical,
    );
    const w = new Float64Array(X.rows).fill(1);
    w[0] = w[1] = w[2] = 2;
    const weighted = (await ridge.fit(X, y, params, { ...ctx, weight: w })).predict(X);
    const dup = (await ridge.fit(twice, Float64Array.from(rows, (r) => y[r]), params, ctx)).predict(X);
    // close, not equal: the standardisation (unweighted column stats) sees the extra rows
    // (3e-4 here, where ignoring the weights is off by 0.05)
    const worst = weighted.reduce((t, v, r) => Math.max(t, Math.abs(v - dup[r])), 0);
    expect(worst).toBeLessThan(0.003);
  });

  it('round-trips through JSON; missing and unseen values predict as the mean level', async () => {
    const { X, y } = data(800, 5);
    const fitted = await ridge.fit(X, y, ridge.params.parse({ alpha: 2, max_levels: 4 }), ctx);
    const again = ridge.load(JSON.parse(JSON.stringify(fitted.toJSON())));
    expect(Array.from(again.predict(X))).toEqual(Array.from(fitted.predict(X)));
    const s = fitted.toJSON() as Saved;
    const odd = fromColumns([[NaN], [NaN], [NaN], [99], [NaN]], X.names, X.categorical);
    expect(fitted.predict(odd)[0]).toBeCloseTo(s.intercept, 12);
    expect(Object.keys(fitted.importance())).toEqual(['a', 'b', 'c', 'k1', 'k2']);
  });

  it('rejects negative or NaN weights with a clear error', async () => {
    const { X, y } = data(50, 6);
    const w = new Float64Array(X.rows).fill(1);
    w[7] = -0.5;
    await expect(ridge.fit(X, y, ridge.params.parse({}), { ...ctx, weight: w })).rejects.toThrow(/weight -0.5 at row 7; weights must be >= 0/);
    w[7] = NaN;
    await expect(ridge.fit(X, y, ridge.params.parse({}), { ...ctx, weight: w })).rejects.toThrow(/weights must be >= 0/);
    await expect(ridge.fit(X, y, ridge.params.parse({}), { ...ctx, weight: new Float64Array(X.rows) })).rejects.toThrow(/no rows with weight > 0/);
  });
});

/**
 * Gradient of Σ w (log(1 + e^η) - y η) + alpha/2 |coef|² (intercept unpenalised) on the dense
 * design, and plain gradient descent on it: a reference that shares no code with the fit.
 */
function logisticGrad(rows: number[][], y: ArrayLike<number>, w: ArrayLike<number>, alpha: number, coef: number[], b: number): { g: number[]; gb: number } {
  const g = coef.map((c) => alpha * c);
  let gb = 0;
  rows.forEach((row, r) => {
    const eta = b + row.reduce((t, v, k) => t + v * coef[k], 0);
    const d = w[r] * (1 / (1 + Math.exp(-eta)) - y[r]);
    row.forEach((v, k) => (g[k] += d * v));
    gb += d;
  });
  return { g, gb };
}

function logisticDescent(rows: number[][], y: ArrayLike<number>, w: ArrayLike<number>, alpha: number): { coef: number[]; intercept: number } {
  // 1/L step, L = 0.25 Σ w (|x|² + 1) + alpha bounds the Hessian.
  const L = 0.25 * rows.reduce((t, row, r) => t + w[r] * (row.reduce((u, v) => u + v * v, 0) + 1), 0) + alpha;
  let coef = new Array<number>(rows[0].length).fill(0);
  let b = 0;
  // Nesterov momentum: plain descent needs far more steps at this conditioning.
  let prev = coef;
  let prevB = b;
  for (let it = 1; it <= 2500; it++) {
    const m = (it - 1) / (it + 2);
    const look = coef.map((c, k) => c + m * (c - prev[k]));
    const lookB = b + m * (b - prevB);
    const { g, gb } = logisticGrad(rows, y, w, alpha, look, lookB);
    prev = coef;
    prevB = b;
    coef = look.map((c, k) => c - g[k] / L);
    b = lookB - gb / L;
  }
  return { coef, intercept: b };
}

/** Binary labels from a logistic model of the data() columns. */
function binaryData(n: number, seed: number): { X: Matrix; y: Float64Array } {
  const { X } = data(n, seed);
  const rng = new Random(seed + 100);
  const y = Float64Array.from({ length: n }, (_, r) => {
    const a = X.data[r * X.cols];
    const k2 = X.data[r * X.cols + 4];
    const eta = 0.6 * (a - 1) - 0.5 * (k2 - 2);
    return rng.next() < 1 / (1 + Math.exp(-eta)) ? 1 : 0;
  });
  return { X, y };
}

describe('ridge as logistic regression (task: binary)', () => {
  const bctx: FitContext = { seed: 1, task: 'binary' };
  it('reaches the optimum of the penalised log-loss that gradient descent finds, with weights, over several row chunks', async () => {
    const { X, y } = binaryData(2500, 11);
    const rng = new Random(12);
    const w = Float64Array.from({ length: X.rows }, () => (rng.next() < 0.1 ? 0 : rng.uniform(0.5, 1.5)));
    const params = ridge.params.parse({ alpha: 2, max_levels: 4 });
    const fitted = await ridge.fit(X, y, params, { ...bctx, weight: w });
    const s = fitted.toJSON() as Saved & { sigmoid: boolean };
    expect(s.sigmoid).toBe(true);
    const rows = design(X, s);
    // the gradient vanishes at the fit (strictly convex: the optimum is unique)
    const { g, gb } = logisticGrad(rows, y, w, params.alpha, s.coef, s.intercept);
    expect(Math.max(...g.map(Math.abs), Math.abs(gb))).toBeLessThan(1e-5);
    const want = logisticDescent(rows, y, w, params.alpha);
    s.coef.forEach((v, k) => expect(Math.abs(v - want.coef[k])).toBeLessThan(1e-4));
    expect(Math.abs(s.intercept - want.intercept)).toBeLessThan(1e-4);
    // probabilities, and the planted signs
    const p = fitted.predict(X);
    expect(p.every((v) => v > 0 && v < 1)).toBe(true);
    expect(s.coef[0]).toBeGreaterThan(0.5);
  });

  it('on a tiny problem without penalty matches the textbook solution; round-trips through JSON', async () => {
    // x = 0: 1 of 4 positive, x = 1: 3 of 4 positive -> logit(p) = -ln 3 + 2 ln 3 x (standardised x: ±1)
    const X = fromColumns([[0, 0, 0, 0, 1, 1, 1, 1]], ['x']);
    const y = Float64Array.from([0, 0, 0, 1, 1, 1, 1, 0]);
    const fitted = await ridge.fit(X, y, ridge.params.parse({ alpha: 0 }), bctx);
    const p = fitted.predict(fromColumns([[0, 1]], ['x']));
    expect(p[0]).toBeCloseTo(0.25, 8);
    expect(p[1]).toBeCloseTo(0.75, 8);
    const s = fitted.toJSON() as Saved;
    expect(s.coef[0]).toBeCloseTo(Math.log(3), 8); // per standard deviation (0.5) of x
    expect(s.intercept).toBeCloseTo(0, 8);
    const again = ridge.load(JSON.parse(JSON.stringify(fitted.toJSON())));
    expect(Array.from(again.predict(X))).toEqual(Array.from(fitted.predict(X)));
  });

  it('rejects labels outside [0, 1]', async () => {
    const X = fromColumns([[0, 1, 2]], ['x']);
    await expect(ridge.fit(X, Float64Array.from([0, 1, 2]), ridge.params.parse({}), bctx)).rejects.toThrow(/label 2 at row 2; labels must be in \[0, 1\]/);
  });
});
