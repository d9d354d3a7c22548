/**
 * @file `user-activity`: where a post sits in its user's posting history (train and test rows
 * together, no labels): its index among the user's posts by time, days since the user's
 * previous and until the next post, the user's span of activity, posting rate and median gap.
 * A user's trajectory is among the strongest popularity signals; this is its label-free part.
 *
 * @example
 *   - id: activity
 *     kind: user-activity
 */
import { z } from 'zod';
import { fromColumns } from '../core/matrix.ts';
import { UserError } from '../core/errors.ts';
import { quantileSorted } from '../core/eval/quantile.ts';
import { defineFeature } from './feature.ts';
import { asNumbers, hasColumn } from './column-values.ts';

const DAY = 86400;

export const userActivity = defineFeature({
  kind: 'user-activity',
  version: 1,
  summary: "a post's place in its user's posting history: index, gaps to previous/next post, user span and rate",
  params: z.object({}).strict(),
  compute({ table }) {
    if (!hasColumn(table, 'postdate')) throw new UserError('user-activity: the dataset has no postdate column');
    const t = asNumbers(table, 'postdate');
    const names = ['post_index', 'post_index_share', 'days_since_prev', 'days_to_next', 'user_span_days', 'user_posts_per_day', 'user_median_gap_days'];
    const cols = names.map(() => new Float32Array(table.n).fill(NaN));
    const byUser = new Map<string, number[]>();
    table.uid.forEach((u, r) => {
      if (!Number.isFinite(t[r])) return;
      let list = byUser.get(u);
      if (!list) byUser.set(u, (list = []));
      list.push(r);
    });
    for (const rows of byUser.values()) {
      rows.sort((a, b) => t[a] - t[b] || a - b);
      const n = rows.length;
      const span = (t[rows[n - 1]] - t[rows[0]]) / DAY;
      const gaps = rows.slice(1).map((r, i) => (t[r] - t[rows[i]]) / DAY).sort((a, b) => a - b);
      const medianGap = quantileSorted(gaps, 0.5);
      rows.forEach((r, i) => {
        const values = [
          i,
          n > 1 ? i / (n - 1) : NaN,
          i > 0 ? (t[r] - t[rows[i - 1]]) / DAY : NaN,
          i < n - 1 ? (t[rows[i + 1]] - t[r]) / DAY : NaN,
          span,
          n / Math.max(1, span),
          medianGap,
        ];
        values.forEach((v, c) => (cols[c][r] = v));
      });
    }
    return fromColumns(cols, names);
  },
});
