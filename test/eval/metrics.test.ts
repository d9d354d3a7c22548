import { describe, expect, it } from 'vitest';
import { auc, mae, mape, rank, rmse, src } from '../../core/eval/metrics.ts';
import { makeFolds, foldRows } from '../../core/eval/folds.ts';
import { Random } from '../../core/random.ts';

describe('metrics', () => {
  it('ranks ties by their average rank', () => {
    expect(Array.from(rank([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
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
