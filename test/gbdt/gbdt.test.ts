/**
 * @file Behaviour of the `gbdt` learner on small synthetic data: fits piecewise and interaction
 * functions, early stopping keeps the best round, missing values are routed to the side they
 * behave like, native categorical splits beat the same column used as a number, JSON round
 * trips predict identically, a seed (and any thread count) gives an identical model, and the
 * objectives do what they promise (l1 ~ median, binary AUC).
 */
import { describe, expect, it } from 'vitest';
import { createMatrix, type Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { auc, mae, mape, rmse } from '../../core/eval/metrics.ts';
import { gbdt, type GbdtModel } from '../../models/gbdt/index.ts';
import { sortFloat32 } from '../../models/gbdt/binning.ts';

function matrix(rows: number, cols: number, fill: (r: number, c: number) => number, categorical?: boolean[]): Matrix {
  const m = createMatrix(rows, cols, Array.from({ length: cols }, (_, c) => `f${c}`), categorical);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m.data[r * cols + c] = fill(r, c);
  return m;
}

function uniformData(rows: number, cols: number, seed: number, target: (x: Float32Array) => number, noise = 0) {
  const rng = new Random(seed);
  const X = matrix(rows, cols, () => rng.uniform(-1, 1));
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) y[r] = target(X.data.subarray(r * cols, (r + 1) * cols)) + noise * rng.normal();
  return { X, y };
}

const fit = async (X: Matrix, y: Float64Array, params: Record<string, unknown>, ctx: Partial<Parameters<typeof gbdt.fit>[3]> = {}) =>
  (await gbdt.fit(X, y, gbdt.params.parse(params), { seed: 7, task: 'regression', ...ctx })) as GbdtModel;

describe('gbdt fits', () => {
  it('a piecewise-constant function to low error', async () => {
    const step = (x: Float32Array) => (x[0] < -0.5 ? -2 : x[0] < 0.1 ? 1 : x[0] < 0.6 ? 3 : 0) + (x[1] > 0.2 ? 1.5 : 0);
    const tr = uniformData(3000, 4, 1, step);
    const te = uniformData(1000, 4, 2, step);
    const m = await fit(tr.X, tr.y, { n_estimators: 100, learning_rate: 0.2, num_leaves: 15 });
    const base = rmse(te.y, new Float64Array(te.y.length).fill(tr.y.reduce((a, b) => a + b) / tr.y.length));
    expect(base).toBeGreaterThan(1.5);
    // What remains is test points within a bin width of a step.
    expect(rmse(te.y, m.predict(te.X))).toBeLessThan(0.2);
  });

  it('an interaction (xor-like and product) that no single feature explains', async () => {
    const f = (x: Float32Array) => (x[0] > 0 !== x[1] > 0 ? 2 : -2) + 2 * x[2] * x[3];
    const tr = uniformData(5000, 5, 3, f, 0.1);
    const te = uniformData(1000, 5, 4, f);
    const m = await fit(tr.X, tr.y, { n_estimators: 300, learning_rate: 0.1, num_leaves: 15, min_data_in_leaf: 10 });
    const mean = tr.y.reduce((a, b) => a + b) / tr.y.length;
    expect(rmse(te.y, new Float64Array(te.y.length).fill(mean))).toBeGreaterThan(2);
    expect(rmse(te.y, m.predict(te.X))).toBeLessThan(0.3);
    // Importance: the four signal features carry almost all the gain, the noise feature little.
    const imp = m.importance();
    expect(imp.f4).toBeLessThan(0.02 * (imp.f0 + imp.f1 + imp.f2 + imp.f3));
    expect(m.importance('split').f0).toBeGreaterThan(0);
  });
});

describe('gbdt early stopping', () => {
  it('stops and keeps the best round on the validation metric', async () => {
    const f = (x: Float32Array) => Math.sin(3 * x[0]) + x[1];
    const tr = uniformData(600, 6, 5, f, 0.8);
    const va = uniformData(600, 6, 6, f, 0.8);
    const seen: number[] = [];
    const m = await fit(
      tr.X,
      tr.y,
      { n_estimators: 400, learning_rate: 0.3, num_leaves: 31, min_data_in_leaf: 2, early_stopping_rounds: 15, metric: 'rmse' },
      { valid: { X: va.X, y: va.y }, onIter: (_it, metrics) => seen.push(metrics.rmse) },
    );
    const bestIdx = seen.indexOf(Math.min(...seen));
    expect(seen.length).toBeLessThan(400);
    expect(seen.length).toBe(bestIdx + 16);
    expect(m.bestIteration).toBe(bestIdx);
    expect(m.numTrees).toBe(bestIdx + 1);
    expect(rmse(va.y, m.predict(va.X))).toBeCloseTo(seen[bestIdx], 10);
  });

  it('maximises higher-is-better metrics (src)', async () => {
    const f = (x: Float32Array) => x[0] + x[1] * x[1];
    const tr = uniformData(500, 4, 7, f, 0.5);
    const va = uniformData(500, 4, 8, f, 0.5);
    const seen: number[] = [];
    const m = await fit(
      tr.X,
      tr.y,
      { n_estimators: 200, learning_rate: 0.3, early_stopping_rounds: 10, metric: 'src' },
      { valid: { X: va.X, y: va.y }, onIter: (_it, metrics) => seen.push(metrics.src) },
    );
    expect(m.bestIteration).toBe(seen.indexOf(Math.max(...seen)));
  });
});

describe('gbdt early stopping on the run metric', () => {
  // A positive label fitted on the log scale, as `transform: log` does.
  const f = (x: Float32Array) => Math.exp(3 + Math.sin(3 * x[0]) + 0.5 * x[1]);
  const positive = (seed: number) => {
    const d = uniformData(600, 5, seed, f);
    const rng = new Random(seed + 100);
    return { X: d.X, y: d.y.map((v) => v * Math.exp(0.4 * rng.normal())) };
  };

  it('scores the label scale: predictions and labels go through toLabel first', async () => {
    const tr = positive(11);
    const va = positive(12);
    const seen: number[] = [];
    const m = await fit(
      tr.X,
      tr.y.map(Math.log),
      { n_estimators: 300, learning_rate: 0.2, num_leaves: 15, early_stopping_rounds: 15 },
      { metric: 'mape', toLabel: Math.exp, valid: { X: va.X, y: va.y.map(Math.log) }, onIter: (_it, metrics) => seen.push(metrics.mape) },
    );
    const best = Math.min(...seen);
    expect(m.iterations).toBe(seen.indexOf(best) + 1);
    // The MAPE of the label, not of log(label) (which would be far smaller).
    expect(mape(va.y, m.predict(va.X).map(Math.exp))).toBeCloseTo(best, 10);
    expect(mape(va.y.map(Math.log), m.predict(va.X))).toBeLessThan(best / 2);
  });

  it("the run's metric is the default and the learner's own metric param wins", async () => {
    const tr = positive(13);
    const va = positive(14);
    const keys = async (params: Record<string, unknown>) => {
      const seen = new Set<string>();
      await fit(tr.X, tr.y, { n_estimators: 5, early_stopping_rounds: 3, ...params }, { metric: 'mae', valid: { X: va.X, y: va.y }, onIter: (_it, m) => Object.keys(m).forEach((k) => seen.add(k)) });
      return [...seen];
    };
    expect(await keys({})).toEqual(['mae']);
    expect(await keys({ metric: 'src' })).toEqual(['src']);
  });

  it('a refit trains the chosen rounds scaled to its rows and validates nothing', async () => {
    const tr = positive(15);
    const va = positive(16);
    const seen: number[] = [];
    const m = await fit(tr.X, tr.y, { n_estimators: 40, early_stopping_rounds: 5 }, { iterations: { count: 25, rows: 400 }, valid: { X: va.X, y: va.y }, onIter: (_it, metrics) => seen.push(Object.keys(metrics).length) });
    expect(m.numTrees).toBe(Math.round((25 * 600) / 400));
    expect(seen.every((k) => k === 0)).toBe(true);
    expect(m.iterations).toBeUndefined();
    expect(gbdt.usesValidation!(gbdt.params.parse({ early_stopping_rounds: 5 }))).toBe(true);
    expect(gbdt.usesValidation!(gbdt.params.parse({}))).toBe(false);
  });
});

describe('gbdt missing values', () => {
  it('learns the default direction of missing values', async () => {
    // f0 missing behaves like a large value (y = 5), f1 missing like a small one (y = -5).
    const rng = new Random(9);
    const n = 4000;
    const X = matrix(n, 2, () => rng.uniform(0, 1));
    const y = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const u = rng.next();
      if (u < 0.2) X.data[r * 2] = NaN;
      else if (u < 0.4) X.data[r * 2 + 1] = NaN;
      const a = X.data[r * 2];
      const b = X.data[r * 2 + 1];
      y[r] = Number.isNaN(a) ? 5 : Number.isNaN(b) ? -5 : a > 0.5 ? 5 : b < 0.5 ? -5 : 0;
    }
    const m = await fit(X, y, { n_estimators: 60, learning_rate: 0.3, num_leaves: 8 });
    const probe = matrix(4, 2, (r, c) => [[NaN, 0.7], [0.2, NaN], [0.9, 0.9], [0.2, 0.2]][r][c]);
    const p = m.predict(probe);
    expect(p[0]).toBeGreaterThan(4.5);
    expect(p[1]).toBeLessThan(-4.5);
    expect(p[2]).toBeGreaterThan(4.5);
    expect(p[3]).toBeLessThan(-4.5);
  });
});

describe('gbdt categorical features', () => {
  it('learns a planted category effect better natively than as a plain number', async () => {
    const rng = new Random(11);
    const K = 60;
    const effect = Array.from({ length: K }, () => rng.normal() * 2);
    // Column 0: a category code with a planted effect; column 1: a plain number. Training rows
    // carry noise, test rows (another stream) none.
    const make = (rows: number, seed: number, noise: number) => {
      const r2 = new Random(seed);
      const X = matrix(rows, 2, (_r, c) => (c === 0 ? r2.int(K) : r2.uniform(-1, 1)), [true, false]);
      const y = new Float64Array(rows);
      for (let r = 0; r < rows; r++) y[r] = effect[X.data[r * 2]] + X.data[r * 2 + 1] + noise * r2.normal();
      return { X, y };
    };
    const params = { n_estimators: 30, learning_rate: 0.2, num_leaves: 8, min_data_per_group: 20, cat_smooth: 5 };
    const tr = make(4000, 12, 0.3);
    const te = make(2000, 99, 0);
    const asNumbers = (X: typeof tr.X) => ({ ...X, categorical: [false, false] });
    const native = await fit(tr.X, tr.y, params);
    const numeric = await fit(asNumbers(tr.X), tr.y, params);
    const eNative = rmse(te.y, native.predict(te.X));
    const eNumeric = rmse(te.y, numeric.predict(asNumbers(te.X)));
    expect(eNative).toBeLessThan(0.6 * eNumeric);
    expect(eNative).toBeLessThan(0.5);
    // Unseen and missing categories go to the "other" side without failing.
    const odd = matrix(2, 2, (r, c) => (c === 0 ? [NaN, 1000][r] : 0), [true, false]);
    expect(Array.from(native.predict(odd)).every(Number.isFinite)).toBe(true);
  });

  it('a categorical column of raw ids (a code above 2^24) is an error naming the column, not a 2^30-slot table', async () => {
    const X = matrix(200, 2, (r, c) => (c === 0 ? (r % 2 ? 1e9 : 3) : r), [true, false]);
    await expect(fit(X, Float64Array.from({ length: 200 }, (_, r) => r % 3), { n_estimators: 2 })).rejects.toThrow(/categorical column "f0" holds the code 1000000000; .*dense codes 0\.\.k-1/);
  });
});

describe('gbdt persistence and determinism', () => {
  const data = () => {
    const rng = new Random(21);
    const n = 3000;
    const X = matrix(n, 6, (_r, c) => (c === 5 ? rng.int(12) : c === 0 && rng.next() < 0.05 ? NaN : rng.normal()), [false, false, false, false, false, true]);
    const y = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const x = X.data.subarray(r * 6, r * 6 + 6);
      y[r] = (Number.isNaN(x[0]) ? 1 : Math.sin(x[0])) + x[1] * (x[2] > 0 ? 1 : -1) + (x[5] % 3) + 0.2 * rng.normal();
    }
    return { X, y };
  };
  const params = { n_estimators: 40, num_leaves: 15, feature_fraction: 0.7, bagging_fraction: 0.8, bagging_freq: 1, min_data_per_group: 10 };

  it('sorts bin samples (sortFloat32) as TypedArray.sort does, signs, zeros and infinities included', () => {
    const rng = new Random(4);
    const v = Float32Array.from({ length: 5000 }, (_, i) => [-0, 0, Infinity, -Infinity, 1e-40, -1e-40][i % 9] ?? rng.normal() * 10 ** rng.int(6));
    expect(Array.from(sortFloat32(v.slice()))).toEqual(Array.from(v.slice().sort()));
  });
  it("bagging's row draw (Random.sampleSorted) is the selection-sampling loop over next(), stream included", () => {
    const a = new Random(9);
    const b = new Random(9);
    const rows = new Int32Array(300);
    a.sampleSorted(1000, rows);
    const ref: number[] = [];
    for (let i = 0; i < 1000 && ref.length < 300; i++) if (b.next() * (1000 - i) < 300 - ref.length) ref.push(i);
    expect(Array.from(rows)).toEqual(ref);
    expect(a.nextU32()).toBe(b.nextU32());
  });
  it('round-trips through JSON and predicts identically', async () => {
    const { X, y } = data();
    const m = await fit(X, y, params);
    const json = JSON.parse(JSON.stringify(m.toJSON()));
    const back = gbdt.load(json);
    expect(Array.from(back.predict(X))).toEqual(Array.from(m.predict(X)));
    expect(back.importance()).toEqual(m.importance());
    expect(JSON.stringify(back.toJSON())).toBe(JSON.stringify(m.toJSON()));
    expect(() => gbdt.load({ kind: 'ridge' })).toThrow();
  });

  it('gives the identical model for the same seed, whatever the thread count', async () => {
    const { X, y } = data();
    const a = JSON.stringify((await fit(X, y, { ...params, num_threads: 1 })).toJSON());
    const b = JSON.stringify((await fit(X, y, { ...params, num_threads: 1 })).toJSON());
    const c = JSON.stringify((await fit(X, y, { ...params, num_threads: 2 })).toJSON());
    const d = JSON.stringify((await fit(X, y, { ...params, num_threads: 1 }, { seed: 8 })).toJSON());
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(d).not.toBe(a);
  });

  it('is thread-independent with plain (g, h) histograms too (binary objective, weights)', async () => {
    const { X, y } = data();
    const yb = y.map((v) => (v > 1 ? 1 : 0));
    const w = Float64Array.from({ length: yb.length }, (_, i) => 0.5 + (i % 3) / 2);
    const run = async (num_threads: number) =>
      JSON.stringify((await gbdt.fit(X, yb, gbdt.params.parse({ ...params, num_threads }), { seed: 3, task: 'binary', weight: w })).toJSON());
    expect(await run(2)).toBe(await run(1));
  });
});

describe('gbdt objectives', () => {
  it('l1 fits the median where l2 fits the mean', async () => {
    // One feature splits two groups; within each, 20% of labels are huge outliers.
    const rng = new Random(31);
    const n = 2000;
    const X = matrix(n, 1, (r) => (r % 2 === 0 ? 0 : 1));
    const y = new Float64Array(n);
    for (let r = 0; r < n; r++) y[r] = (r % 2 === 0 ? 1 : 3) + 0.1 * rng.normal() + (rng.next() < 0.2 ? 50 : 0);
    const l1 = await fit(X, y, { objective: 'l1', n_estimators: 50, learning_rate: 0.5, num_leaves: 2, min_data_in_leaf: 5 });
    const l2 = await fit(X, y, { objective: 'l2', n_estimators: 50, learning_rate: 0.5, num_leaves: 2, min_data_in_leaf: 5 });
    const probe = matrix(2, 1, (r) => r);
    const p1 = l1.predict(probe);
    const p2 = l2.predict(probe);
    expect(Math.abs(p1[0] - 1)).toBeLessThan(0.1);
    expect(Math.abs(p1[1] - 3)).toBeLessThan(0.1);
    expect(p2[0]).toBeGreaterThan(8);
    expect(mae(y, l1.predict(X))).toBeLessThan(mae(y, l2.predict(X)));
  });

  it('huber, pseudo_huber and mape fit a clean signal', async () => {
    const f = (x: Float32Array) => 5 + 2 * x[0] + (x[1] > 0 ? 1 : 0);
    const tr = uniformData(2000, 3, 41, f, 0.05);
    const te = uniformData(500, 3, 42, f);
    for (const objective of ['huber', 'pseudo_huber', 'mape'] as const) {
      const m = await fit(tr.X, tr.y, { objective, delta: 1, n_estimators: 200, learning_rate: 0.1, num_leaves: 15 });
      expect(rmse(te.y, m.predict(te.X)), objective).toBeLessThan(0.15);
    }
  });

  it('binary log-loss gives probabilities with high AUC', async () => {
    const rng = new Random(51);
    const n = 3000;
    const X = matrix(n, 4, () => rng.normal());
    const y = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const z = 2 * X.data[r * 4] - X.data[r * 4 + 1] * X.data[r * 4 + 2];
      y[r] = rng.next() < 1 / (1 + Math.exp(-2 * z)) ? 1 : 0;
    }
    const tr = { X: matrix(2000, 4, (r, c) => X.data[r * 4 + c]), y: y.slice(0, 2000) };
    const te = { X: matrix(1000, 4, (r, c) => X.data[(r + 2000) * 4 + c]), y: y.slice(2000) };
    const m = (await gbdt.fit(tr.X, tr.y, gbdt.params.parse({ n_estimators: 100, learning_rate: 0.1 }), {
      seed: 1,
      task: 'binary',
      valid: { X: te.X, y: te.y },
    })) as GbdtModel;
    expect(m.objective).toBe('binary');
    const p = m.predict(te.X);
    expect(Math.min(...p)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...p)).toBeLessThanOrEqual(1);
    expect(auc(te.y, p)).toBeGreaterThan(0.85);
  });

  it('packed histograms (l2, no weights) and plain ones (unit weights) fit the same function', async () => {
    const f = (x: Float32Array) => Math.sin(3 * x[0]) + x[1] * x[2];
    const tr = uniformData(3000, 4, 61, f, 0.1);
    const te = uniformData(1000, 4, 62, f);
    const params = { n_estimators: 80, learning_rate: 0.1, num_leaves: 15 };
    const packed = await fit(tr.X, tr.y, params);
    const plain = await fit(tr.X, tr.y, params, { weight: new Float64Array(3000).fill(1) });
    const a = packed.predict(te.X);
    const b = plain.predict(te.X);
    expect(rmse(te.y, a)).toBeLessThan(0.2);
    expect(Math.abs(rmse(te.y, a) - rmse(te.y, b))).toBeLessThan(0.01);
    expect(rmse(a, b)).toBeLessThan(0.05);
  });

  it('rejects bad inputs with clear messages', async () => {
    const X = matrix(10, 2, () => 1);
    await expect(fit(X, new Float64Array(9), {})).rejects.toThrow(/10 rows but 9 labels/);
    expect(() => gbdt.params.parse({ num_leaves: 1 })).toThrow();
    expect(() => gbdt.params.parse({ bogus: 1 })).toThrow();
  });
});
