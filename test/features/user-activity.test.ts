import { describe, expect, it } from 'vitest';
import { userActivity } from '../../features/user-activity.ts';
import { at, fakeContext, fakeTable } from './fake-context.ts';

describe('user-activity', () => {
  it("places each post in its user's history by time", async () => {
    const day = 86400;
    const uid = ['a', 'b', 'a', 'a'];
    const postdate = Float64Array.from([10 * day, 5 * day, 2 * day, 4 * day]); // a: rows 2, 3, 0
    const table = fakeTable({ n: 4, uid, columns: { postdate: { type: 'number', values: postdate } } });
    const m = await userActivity.compute(fakeContext(table), userActivity.params.parse({}));
    expect([0, 2, 3].map((r) => at(m, r, 'post_index'))).toEqual([2, 0, 1]);
    expect(at(m, 3, 'days_since_prev')).toBe(2);
    expect(at(m, 3, 'days_to_next')).toBe(6);
    expect(Number.isNaN(at(m, 2, 'days_since_prev'))).toBe(true);
    expect(at(m, 0, 'user_span_days')).toBe(8);
    expect(at(m, 0, 'user_median_gap_days')).toBe(4); // gaps 2 and 6
    expect(Number.isNaN(at(m, 1, 'post_index_share'))).toBe(true); // a single post
  });
});
