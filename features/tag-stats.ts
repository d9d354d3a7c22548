/**
 * @file `tag-stats`: how active a post's tags are across the whole dataset (train and test, no
 * labels): for each tag, the number of posts using it and the number of distinct days it was
 * used on; per post, those aggregated over its tags (mean, max, min of log1p counts). Popular,
 * long-lived tags carry reach; the 2025 video winner used such per-tag activity counts.
 *
 * @example
 *   - id: tags
 *     kind: tag-stats
 *     params: { fields: [tags, suggested_words] }
 */
import { z } from 'zod';
import { fromColumns } from '../core/matrix.ts';
import { UserError } from '../core/errors.ts';
import { defineFeature } from './feature.ts';
import { asList, asNumbers, hasColumn } from './column-values.ts';

const AGGS = ['mean', 'max', 'min'] as const;

export const tagStats = defineFeature({
  kind: 'tag-stats',
  version: 1,
  summary: 'per-tag post counts and active days across the dataset, aggregated over a post\'s tags',
  params: z
    .object({
      fields: z.array(z.string()).default(['tags']).describe('list columns of tags (tags, suggested_words)'),
      aggregations: z.array(z.enum(AGGS)).default(['mean', 'max', 'min']).describe('how tag values combine per post'),
    })
    .strict(),
  compute({ table }, params) {
    const days = hasColumn(table, 'postdate') ? asNumbers(table, 'postdate').map((s) => (Number.isFinite(s) ? Math.floor(s / 86400) : NaN)) : null;
    const columns: Float32Array[] = [];
    const names: string[] = [];
    for (const field of params.fields) {
      if (!hasColumn(table, field)) throw new UserError(`tag-stats: dataset has no column "${field}"; available: ${Object.keys(table.columns).sort().join(', ')}`);
      const lists = asList(table, field).map((l) => [...new Set(l.map((t) => t.trim().toLowerCase()).filter(Boolean))]);
      const posts = new Map<string, number>();
      const activeDays = new Map<string, Set<number>>();
      lists.forEach((tags, i) => {
        for (const t of tags) {
          posts.set(t, (posts.get(t) ?? 0) + 1);
          if (days && Number.isFinite(days[i])) {
            let s = activeDays.get(t);
            if (!s) activeDays.set(t, (s = new Set()));
            s.add(days[i]);
          }
        }
      });
      const measures: [string, (t: string) => number][] = [['posts', (t) => Math.log1p(posts.get(t) ?? 0)]];
      if (days) measures.push(['days', (t) => Math.log1p(activeDays.get(t)?.size ?? 0)]);
      for (const [measure, value] of measures) {
        for (const agg of params.aggregations) {
          const col = new Float32Array(table.n).fill(NaN);
          lists.forEach((tags, i) => {
            if (!tags.length) return;
            const v = tags.map(value);
            col[i] = agg === 'mean' ? v.reduce((s, x) => s + x, 0) / v.length : agg === 'max' ? Math.max(...v) : Math.min(...v);
          });
          columns.push(col);
          names.push(`${field}_${measure}_${agg}`);
        }
      }
      // Share of a post's tags used only by this post: idiosyncratic tags reach nobody.
      columns.push(Float32Array.from(lists, (tags) => (tags.length ? tags.filter((t) => posts.get(t) === 1).length / tags.length : NaN)));
      names.push(`${field}_unique_share`);
    }
    return fromColumns(columns, names);
  },
});
