import { describe, expect, it } from 'vitest';
import { user } from '../../features/user.ts';
import { at, fakeContext, fakeTable } from './fake-context.ts';

describe('user', () => {
  it('video track: log1p counts, engagement ratios and posts per user', async () => {
    const num = (v: number[]) => ({ type: 'number' as const, values: Float64Array.from(v) });
    const table = {
      ...fakeTable({
        n: 3,
        uid: ['a', 'a', 'b'],
        columns: {
          user_heart_count: num([99, 99, 0]),
          user_video_count: num([9, 9, NaN]),
          user_follower_count: num([1000, 1000, 10]),
          user_following_count: num([0, 0, 10]),
        },
      }),
      track: 'video' as const,
    };
    const m = await user.compute(fakeContext(table), user.params.parse({ ratios: true }));
    expect(at(m, 0, 'log1p_user_heart_count')).toBeCloseTo(Math.log(100), 6);
    expect(at(m, 0, 'log_heart_per_video')).toBeCloseTo(Math.log(100) - Math.log(10), 6);
    expect(at(m, 2, 'log_follower_per_following')).toBeCloseTo(0, 6);
    expect(Number.isNaN(at(m, 2, 'log_heart_per_video'))).toBe(true);
    expect([0, 1, 2].map((r) => at(m, r, 'posts_per_user'))).toEqual([2, 2, 1]);
  });
});
