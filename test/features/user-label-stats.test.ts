import { describe, expect, it } from 'vitest';
import { userLabelStats } from '../../features/user-label-stats.ts';
import { at, fakeContext, fakeTable } from './fake-context.ts';

// Users a (rows 0-3) and b (rows 4-5); row 6 is a test-like row of user a, after everything.
const uid = ['a', 'a', 'a', 'a', 'b', 'b', 'a'];
const postdate = Float64Array.from([10, 20, 30, 40, 15, 25, 99]);
const y = Float64Array.from([1, 2, 3, 10, 5, 7, NaN]);
const table = fakeTable({ n: 7, nTrain: 6, uid, columns: { postdate: { type: 'number', values: postdate } } });
const trainRows = Int32Array.from([0, 1, 2, 3, 4, 5]);

describe('user-label-stats', () => {
  it('history: past sees only earlier posts of the same user, never its own label', () => {
    const params = userLabelStats.params.parse({ history: 'past', stats: ['mean', 'count', 'last', 'max'], prior: 0 });
    const fitted = userLabelStats.fit(fakeContext(table), params, trainRows, y);
    expect(at(fitted.train, 0, 'uid_label_count')).toBe(0);
    expect(at(fitted.train, 2, 'uid_label_mean')).toBeCloseTo(1.5, 12); // rows 0 and 1
    expect(at(fitted.train, 2, 'uid_label_last')).toBe(2);
    expect(at(fitted.train, 3, 'uid_label_max')).toBe(3); // its own 10 is not in its past
    expect(at(fitted.train, 5, 'uid_label_mean')).toBe(5);
    const test = fitted.apply(Int32Array.from([6]));
    expect(at(test, 0, 'uid_label_count')).toBe(4);
    expect(at(test, 0, 'uid_label_last')).toBe(10);
  });

  it('history: all gives training rows inner-fold values without their own label', () => {
    const params = userLabelStats.params.parse({ stats: ['mean', 'count'], prior: 0, inner_folds: 2 });
    const fitted = userLabelStats.fit(fakeContext(table), params, trainRows, y);
    for (let i = 0; i < 4; i++) expect(at(fitted.train, i, 'uid_label_count')).toBeLessThan(4);
    const test = fitted.apply(Int32Array.from([6]));
    expect(at(test, 0, 'uid_label_mean')).toBeCloseTo(4, 12); // (1 + 2 + 3 + 10) / 4
    expect(at(test, 0, 'uid_label_count')).toBe(4);
  });
});
