import { describe, expect, it } from 'vitest';
import { METRICS, accuracy, auc, f1, labelScorer, mae, mape, precision, rank, recall, rmse, src } from '../../core/eval/metrics.ts';
import { makeFolds, foldRows } from '../../core/eval/folds.ts';
import { Random } from '../../core/random.ts';
import { score } from '../../core/eval/score.ts';

describe('metrics', () => {
  it('ranks ties by their average rank', () => {
    expect(Array.from(rank([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
  });
  it('ranks by value across signs, magnitudes and zeros (the radix order on float bits)', () => {
    const v = [3, -0, -1e300, Infinity, 0, -2.5, 1e-310, -Infinity, -1e-310, 2.5, -2.5, 0.1];
    const sorted = [...v].sort((a, b) => a - b);
    // reference: 1 + (values below) + (ties - 1) / 2
    const expected = v.map((x) => 1 + sorted.filter((s) => s < x).length + (sorted.filter((s) => s === x).length - 1) / 2);
    expect(Array.from(rank(v))).toEqual(expected);
    expect(Array.from(rank(Float32Array.from([0.5, -0.25, 0.5])))).toEqual([2.5, 1, 2.5]);
  });
  it('labelScorer gives the metric function\'s numbers', () => {
    const rng = new Random(3);
    const y = Float64Array.from({ length: 500 }, () => Math.round(rng.normal() * 4));
    const p = Float64Array.from({ length: 500 }, () => rng.normal());
    for (const m of ['src', 'rmse', 'mae'] as const) expect(labelScorer(m, y)(p)).toBe(METRICS[m].fn(y, p));
    expect(() => labelScorer('src', y)(p.subarray(1))).toThrow(/500 labels but 499 predictions/);
  });
  it('computes Spearman, MAE, MAPE, RMSE, AUC', () => {
    expect(src([1, 2, 3], [1, 3, 2])).toBeCloseTo(0.5, 12);
    expect(src([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1);
    expect(src([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
    expect(mae([1, 2], [2, 4])).toBe(1.5);
    expect(mape([2, 4], [1, 5])).toBeCloseTo((0.5 + 0.25) / 2, 12);
    expect(rmse([0, 0], [3, 4])).toBeCloseTo(Math.sqrt(12.5), 12);
    expect(auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
  });
  it('weighted precision, recall and F1 match hand-computed values (threshold 0.5)', () => {
    // class 0: 6 rows, 5 predicted 0 of which 4 right; class 1: 4 rows, 5 predicted 1 of which 3 right
    const y = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
    const p = [0.1, 0.2, 0.3, 0.49, 0.5, 0.9, 0.6, 0.7, 0.99, 0.2];
    expect(precision(y, p)).toBeCloseTo(0.6 * (4 / 5) + 0.4 * (3 / 5), 12); // 0.72
    expect(recall(y, p)).toBeCloseTo(0.6 * (4 / 6) + 0.4 * (3 / 4), 12); // 0.7
    expect(recall(y, p)).toBeCloseTo(accuracy(y, p), 12);
    expect(f1(y, p)).toBeCloseTo(0.6 * (8 / 11) + 0.4 * (6 / 9), 12); // 0.70303
    // a class never predicted scores 0 (no division by zero)
    expect(precision([0, 1], [0.1, 0.2])).toBeCloseTo(0.25, 12);
    expect(f1([0, 1], [0.1, 0.2])).toBeCloseTo(0.5 * (2 / 3), 12);
    expect(score('binary', y, p)).toMatchObject({ accuracy: 0.7, precision: 0.72, recall: 0.7, f1: 0.70303 });
  });
  it('fails loudly on mismatched lengths', () => {
    expect(() => src([1, 2], [1])).toThrow(/2 labels but 1 predictions/);
  });
});

describe('folds', () => {
  it('k-fold covers every row exactly once and is seeded', () => {
    const a = makeFolds(103, { scheme: 'kfold', folds: 5 }, new Random(1));
    const b = makeFolds(103, { scheme: 'kfold', folds: 5 }, new Random(1));
    expect(Array.from(a.fold)).toEqual(Array.from(b.fold));
    const sizes = [0, 1, 2, 3, 4].map((f) => foldRows(a, f).valid.length);
    expect(sizes.reduce((s, x) => s + x, 0)).toBe(103);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });
  it('group k-fold never splits a group', () => {
    const rng = new Random(3);
    const groups = Array.from({ length: 500 }, () => `u${rng.int(60)}`);
    const f = makeFolds(500, { scheme: 'group-kfold', folds: 4, groups }, new Random(9));
    const seen = new Map<string, number>();
    groups.forEach((g, i) => {
      if (seen.has(g)) expect(f.fold[i]).toBe(seen.get(g));
      else seen.set(g, f.fold[i]);
    });
  });
  it('time scheme validates the newest rows only', () => {
    const times = Float64Array.from({ length: 10 }, (_, i) => 100 - i); // row 9 is oldest
    const f = makeFolds(10, { scheme: 'time', folds: 1, times, validFraction: 0.2 }, new Random(1));
    expect(Array.from(f.fold)).toEqual([0, 0, -1, -1, -1, -1, -1, -1, -1, -1]);
  });
});

describe('stratified folds', () => {
  const y = Array.from({ length: 100 }, (_, i) => (i % 5 === 0 ? 1 : 0)); // 20 positives
  it('kfold gives every fold the same class shares and covers every row once', () => {
    const f = makeFolds(100, { scheme: 'kfold', folds: 5, strata: y }, new Random(3));
    for (let k = 0; k < 5; k++) {
      const { valid } = foldRows(f, k);
      expect(valid.length).toBe(20);
      expect(Array.from(valid).filter((r) => y[r] === 1).length).toBe(4);
    }
    // unstratified folds of the same seed are uneven somewhere (the check above can fail)
    const plain = makeFolds(100, { scheme: 'kfold', folds: 5 }, new Random(3));
    const pos = [0, 1, 2, 3, 4].map((k) => Array.from(foldRows(plain, k).valid).filter((r) => y[r] === 1).length);
    expect(pos.some((c) => c !== 4)).toBe(true);
  });
  it('holdout validates a random valid_fraction of each class once', () => {
    const f = makeFolds(100, { scheme: 'holdout', folds: 5, validFraction: 0.3, strata: y }, new Random(4));
    expect(f.k).toBe(1);
    const valid = Array.from(foldRows(f, 0).valid);
    expect(valid.length).toBe(30);
    expect(valid.filter((r) => y[r] === 1).length).toBe(6);
    expect(Array.from(f.fold).filter((v) => v === -1).length).toBe(70);
    // random, not the first rows
    expect(valid.some((r) => r >= 70)).toBe(true);
    const again = makeFolds(100, { scheme: 'holdout', folds: 5, validFraction: 0.3, strata: y }, new Random(4));
    expect(Array.from(again.fold)).toEqual(Array.from(f.fold));
  });
});
