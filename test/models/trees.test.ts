/**
 * @file The classic tree learners (decision-tree, random-forest, adaboost): each beats a
 * constant prediction on a planted problem by a margin, a depth-1 tree finds the planted
 * threshold, a one-tree forest without bootstrap or feature draws is the decision tree, the
 * forest draws features per node (not per tree), SAMME's tree weights and probabilities match a
 * hand-computed two-round example (checked against scikit-learn 1.2), AdaBoost.R2 predicts the
 * weighted median of its trees, and models are seeded, thread-independent and round-trip
 * through JSON.
 */
import { describe, expect, it } from 'vitest';
import { createMatrix, type Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { auc, rmse } from '../../core/eval/metrics.ts';
import type { FitContext, ModelDef } from '../../models/model.ts';
import { adaboost } from '../../models/trees/adaboost.ts';
import { decisionTree } from '../../models/trees/decision-tree.ts';
import { randomForest } from '../../models/trees/random-forest.ts';
import { forestFromJSON, predictRaw } from '../../models/gbdt/predictor.ts';

function matrix(rows: number, cols: number, fill: (r: number, c: number) => number): Matrix {
  const m = createMatrix(rows, cols, Array.from({ length: cols }, (_, c) => `f${c}`));
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m.data[r * cols + c] = fill(r, c);
  return m;
}

/** y = step on f0 + interaction f1 * f2 + noise; yb ~ Bernoulli(sigmoid(2y - 1)); f3..f5 are noise. */
function planted(rows: number, seed: number) {
  const rng = new Random(seed);
  const X = matrix(rows, 6, () => rng.uniform(-1, 1));
  const y = new Float64Array(rows);
  const yb = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const x = X.data.subarray(r * 6, r * 6 + 6);
    y[r] = (x[0] > 0.2 ? 1 : 0) + 2 * x[1] * x[2] + 0.3 * rng.normal();
    yb[r] = rng.next() < 1 / (1 + Math.exp(1 - 3 * y[r])) ? 1 : 0;
  }
  return { X, y, yb };
}

const fit = <P>(def: ModelDef<P>, X: Matrix, y: Float64Array, params: Record<string, unknown>, ctx: Partial<FitContext> = {}) =>
  Promise.resolve(def.fit(X, y, def.params.parse(params), { seed: 7, task: 'regression', ...ctx }));

const LEARNERS: [ModelDef<unknown>, Record<string, unknown>][] = [
  [decisionTree as ModelDef<unknown>, { min_data_in_leaf: 20 }],
  [randomForest as ModelDef<unknown>, { n_estimators: 30, num_leaves: 63 }],
  [adaboost as ModelDef<unknown>, { n_estimators: 30, max_depth: 3, min_data_in_leaf: 10 }],
];

describe('tree learners beat a constant prediction on a planted problem', () => {
  const train = planted(2000, 1);
  const test = planted(1000, 2);
  let sd = 0;
  const mean = test.y.reduce((a, b) => a + b, 0) / test.y.length;
  for (const v of test.y) sd += (v - mean) ** 2;
  sd = Math.sqrt(sd / test.y.length);

  for (const [def, params] of LEARNERS) {
    it(`${def.kind}: regression RMSE well under the label's spread, binary AUC well over 0.5`, async () => {
      const reg = await fit(def, train.X, train.y, params);
      expect(rmse(test.y, reg.predict(test.X))).toBeLessThan(0.9 * sd);
      const bin = await fit(def, train.X, train.yb, params, { task: 'binary' });
      const p = bin.predict(test.X);
      expect(auc(test.yb, p)).toBeGreaterThan(0.78);
      expect(p.every((v) => v >= 0 && v <= 1)).toBe(true);
      // The planted columns carry the importance.
      const imp = reg.importance();
      expect(imp.f0 + imp.f1 + imp.f2).toBeGreaterThan(2 * (imp.f3 + imp.f4 + imp.f5));
    });
  }

  it('random-forest beats a single tree of the same shape (variance reduction by averaging)', async () => {
    const tree = await fit(decisionTree, train.X, train.y, {});
    const forest = await fit(randomForest, train.X, train.y, { n_estimators: 30, max_features: 'all' });
    expect(rmse(test.y, forest.predict(test.X))).toBeLessThan(0.9 * rmse(test.y, tree.predict(test.X)));
  });
});

describe('decision-tree', () => {
  it('at depth 1 splits at the planted threshold and predicts the class shares of both sides', async () => {
    const rng = new Random(3);
    const X = matrix(1000, 3, () => rng.uniform(0, 1));
    const y = Float64Array.from({ length: 1000 }, (_, r) => (X.data[r * 3 + 1] > 0.3 ? 1 : 0));
    const m = await fit(decisionTree, X, y, { max_depth: 1 }, { task: 'binary' });
    const forest = (m.toJSON() as { forest: { feature: number[]; threshold: number[]; leafValue: number[] } }).forest;
    expect(forest.feature).toEqual([1]);
    expect(forest.threshold[0]).toBeGreaterThan(0.29);
    expect(forest.threshold[0]).toBeLessThan(0.31);
    expect(forest.leafValue).toEqual([0, 1]);
  });

  it('leaves pure nodes unsplit (gains of rounding size are no gain)', async () => {
    const X = matrix(200, 2, (r, c) => (c === 0 ? r : (r * 7) % 13));
    const y = Float64Array.from({ length: 200 }, (_, r) => (r < 120 ? 0.1 : 0.7));
    const m = await fit(decisionTree, X, y, {});
    expect((m.toJSON() as { forest: { leafValue: number[] } }).forest.leafValue).toHaveLength(2);
  });

  it('rejects labels outside [0, 1] on binary tasks, naming the row', async () => {
    const X = matrix(10, 2, (r, c) => r + c);
    const y = Float64Array.from({ length: 10 }, (_, r) => (r === 4 ? 2 : r % 2));
    await expect(fit(decisionTree, X, y, {}, { task: 'binary' })).rejects.toThrow(/label 2 at row 4/);
  });
});

describe('random-forest', () => {
  const { X, y } = planted(1500, 4);

  it('with one tree, no bootstrap and all features is the decision tree', async () => {
    const tree = (await fit(decisionTree, X, y, { min_data_in_leaf: 5 })).toJSON() as Record<string, unknown>;
    const forest = (await fit(randomForest, X, y, { n_estimators: 1, bootstrap: false, max_features: 'all', min_data_in_leaf: 5 })).toJSON() as Record<string, unknown>;
    expect(JSON.stringify({ ...forest, kind: 'x' })).toBe(JSON.stringify({ ...tree, kind: 'x' }));
  });

  it('draws the features per node: with one feature per node, one tree splits on several features', async () => {
    const m = await fit(randomForest, X, y, { n_estimators: 1, bootstrap: false, max_features: 0.1, max_depth: 4 });
    const features = new Set((m.toJSON() as { forest: { feature: number[] } }).forest.feature);
    expect(features.size).toBeGreaterThan(2);
  });

  it('is seeded and gives the same bytes on one or two threads', async () => {
    const params = { n_estimators: 8, num_leaves: 31 };
    const a = JSON.stringify((await fit(randomForest, X, y, { ...params, num_threads: 1 })).toJSON());
    const b = JSON.stringify((await fit(randomForest, X, y, { ...params, num_threads: 1 })).toJSON());
    const c = JSON.stringify((await fit(randomForest, X, y, { ...params, num_threads: 2 })).toJSON());
    const d = JSON.stringify((await fit(randomForest, X, y, { ...params, num_threads: 1 }, { seed: 8 })).toJSON());
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(d).not.toBe(a);
  });
});

describe('adaboost', () => {
  it('SAMME: tree weights and probabilities of a hand-computed two-round example', async () => {
    // x = 1..6, y = 0 0 1 1 1 0. Round 1 (equal weights): the best Gini stump is x <= 2 (0 | 1),
    // wrong on x = 6: err 1/6, alpha ln 5; x = 6's weight x5. Round 2 (weights 1 1 1 1 1 5): the
    // best stump is x <= 5 (1 | 0), wrong on x = 1, 2: err 2/10, alpha ln 4.
    const X = matrix(6, 1, (r) => r + 1);
    const y = Float64Array.from([0, 0, 1, 1, 1, 0]);
    const m = await fit(adaboost, X, y, { n_estimators: 2 }, { task: 'binary' });
    const json = m.toJSON() as { weights: number[] };
    expect(json.weights[0]).toBeCloseTo(Math.log(5), 12);
    expect(json.weights[1]).toBeCloseTo(Math.log(4), 12);
    // p = sigmoid(sum(alpha * vote) / sum(alpha)), votes +1 / -1.
    const total = Math.log(5) + Math.log(4);
    const sig = (z: number) => 1 / (1 + Math.exp(-z));
    const expected = [-1, -1, 1, 1, 1, 1].map((_, i) => {
      const v1 = i + 1 <= 2 ? -1 : 1;
      const v2 = i + 1 <= 5 ? 1 : -1;
      return sig((v1 * Math.log(5) + v2 * Math.log(4)) / total);
    });
    const p = m.predict(X);
    expected.forEach((e, i) => expect(p[i]).toBeCloseTo(e, 12));
    expect(p[2]).toBeCloseTo(sig(1), 12);
  });

  it('SAMME stops at a perfect tree', async () => {
    const X = matrix(8, 1, (r) => r);
    const y = Float64Array.from({ length: 8 }, (_, r) => (r >= 4 ? 1 : 0));
    const m = await fit(adaboost, X, y, { n_estimators: 10 }, { task: 'binary' });
    expect((m.toJSON() as { weights: number[] }).weights).toEqual([1]);
  });

  it('AdaBoost.R2 predicts the weighted median of its trees', async () => {
    const { X, y } = planted(600, 5);
    const m = await fit(adaboost, X, y, { n_estimators: 7 });
    const json = m.toJSON() as { weights: number[]; trees: Record<string, unknown>[] };
    expect(json.trees.length).toBeGreaterThan(2);
    const perTree = json.trees.map((t) => predictRaw(forestFromJSON(t), X));
    const p = m.predict(X);
    for (let r = 0; r < 50; r++) {
      const order = perTree.map((t, k) => ({ v: t[r], w: json.weights[k] })).sort((a, b) => a.v - b.v);
      const half = json.weights.reduce((a, b) => a + b, 0) / 2;
      let acc = 0;
      const median = order.find((o) => (acc += o.w) >= half)!.v;
      expect(p[r]).toBe(median);
    }
  });
});

describe('tree learners persist and are deterministic', () => {
  const { X, y, yb } = planted(800, 6);
  for (const [def, params] of LEARNERS) {
    for (const task of ['regression', 'binary'] as const) {
      it(`${def.kind} (${task}) round-trips through JSON and refits identically`, async () => {
        const labels = task === 'binary' ? yb : y;
        const m = await fit(def, X, labels, params, { task });
        const back = def.load(JSON.parse(JSON.stringify(m.toJSON())));
        expect(Array.from(back.predict(X))).toEqual(Array.from(m.predict(X)));
        expect(back.importance()).toEqual(m.importance());
        expect(JSON.stringify((await fit(def, X, labels, params, { task })).toJSON())).toBe(JSON.stringify(m.toJSON()));
        expect(() => def.load({ kind: 'gbdt' })).toThrow();
      });
    }
  }
});
