import { describe, expect, it } from 'vitest';
import { foldRows, innerSplit, makeFolds } from '../../core/eval/folds.ts';
import { Random } from '../../core/random.ts';

describe('innerSplit (early stopping on a fold\'s own training rows)', () => {
  const n = 1000;
  const rng = new Random(4);
  const times = Float64Array.from({ length: n }, () => rng.uniform(0, 1e6));
  const groups = Array.from({ length: n }, (_, i) => `u${i % 97}`);

  it('time: the newest share of the fold\'s training rows', () => {
    const folds = makeFolds(n, { scheme: 'time', folds: 1, times }, new Random(1));
    const { train } = foldRows(folds, 0);
    const { fit, stop } = innerSplit(train, { scheme: 'time', folds: 1, times }, 0.15, new Random(2));
    expect(stop.length).toBe(Math.round(train.length * 0.15));
    expect(fit.length + stop.length).toBe(train.length);
    expect(Math.max(...Array.from(fit, (r) => times[r]))).toBeLessThan(Math.min(...Array.from(stop, (r) => times[r])));
    // The outer validation rows are newer still, and never among them.
    const valid = new Set(foldRows(folds, 0).valid);
    expect([...stop].some((r) => valid.has(r))).toBe(false);
  });

  it('group-kfold: whole groups, about the share asked for', () => {
    const spec = { scheme: 'group-kfold' as const, folds: 5, groups };
    const { train } = foldRows(makeFolds(n, spec, new Random(1)), 0);
    const { fit, stop } = innerSplit(train, spec, 0.2, new Random(3));
    const fitGroups = new Set(Array.from(fit, (r) => groups[r]));
    expect(Array.from(stop).some((r) => fitGroups.has(groups[r]))).toBe(false);
    expect(stop.length / train.length).toBeGreaterThan(0.18);
    expect(stop.length / train.length).toBeLessThan(0.25);
  });

  it('kfold: a seeded random share, per class when stratified; same seed, same split', () => {
    const strata = Float64Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 1 : 0));
    const spec = { scheme: 'kfold' as const, folds: 5, strata };
    const { train } = foldRows(makeFolds(n, spec, new Random(1)), 2);
    const a = innerSplit(train, spec, 0.1, new Random(5));
    const b = innerSplit(train, spec, 0.1, new Random(5));
    const c = innerSplit(train, spec, 0.1, new Random(6));
    expect(a.stop).toEqual(b.stop);
    expect(a.stop).not.toEqual(c.stop);
    const positives = (rows: Int32Array) => Array.from(rows).filter((r) => strata[r] === 1).length;
    expect(positives(a.stop)).toBe(Math.round(positives(train) * 0.1));
    // Every row exactly once, in ascending order as the fold gave them.
    expect([...a.fit, ...a.stop].sort((x, y) => x - y)).toEqual([...train]);
  });

  it('refuses a split that leaves nothing to stop on', () => {
    expect(() => innerSplit(Int32Array.of(1, 2, 3), { scheme: 'kfold', folds: 2 }, 0.1, new Random(1))).toThrow(/cannot give 10%/);
  });
});
