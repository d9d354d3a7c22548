/**
 * @file `user-label-stats`: the popularity a user's other posts reached (mean, median, std,
 * count, min, max), the strongest single signal in SMP data. Label-aware: the runner fits it on
 * each fold's training rows only. Training rows get values from an inner k-fold over the
 * training rows (a row never sees its own label); validation and test rows get values from all
 * training rows. Means are shrunk toward the global mean by `prior` pseudo-posts.
 *
 * `history: past` uses only the user's posts made before the row's post (a career so far):
 * that is what test posts, which come after all train posts, see, and it needs no inner folds
 * because a row's own label is never in its past.
 *
 * @example
 *   - id: userstats
 *     kind: user-label-stats
 *     params: { stats: [mean, median, count], prior: 3 }
 */
import { z } from 'zod';
import { createMatrix, type Matrix } from '../core/matrix.ts';
import { UserError } from '../core/errors.ts';
import { quantileSorted } from '../core/eval/quantile.ts';
import { defineFeature } from './feature.ts';
import { asStrings } from './columns.ts';

const STATS = ['mean', 'median', 'std', 'count', 'min', 'max', 'last'] as const;
type Stat = (typeof STATS)[number];

function summarize(values: number[], stats: readonly Stat[], prior: number, globalMean: number, out: Float32Array, offset: number): void {
  const n = values.length;
  const sorted = [...values].sort((a, b) => a - b);
  const sum = values.reduce((s, v) => s + v, 0);
  const mean = n ? sum / n : NaN;
  stats.forEach((s, k) => {
    let v: number;
    switch (s) {
      case 'mean':
        v = (sum + prior * globalMean) / (n + prior || 1);
        break;
      case 'median':
        v = quantileSorted(sorted, 0.5);
        break;
      case 'std':
        v = n > 1 ? Math.sqrt(values.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : NaN;
        break;
      case 'count':
        v = n;
        break;
      case 'min':
        v = n ? sorted[0] : NaN;
        break;
      case 'max':
        v = n ? sorted[n - 1] : NaN;
        break;
      case 'last':
        v = n ? values[n - 1] : NaN; // values come in time order in `past` mode
        break;
    }
    out[offset + k] = v;
  });
}

function groupLabels(keys: readonly (string | null)[], rows: ArrayLike<number>, y: Float64Array): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (let i = 0; i < rows.length; i++) {
    const key = keys[rows[i]];
    if (key === null) continue;
    let list = m.get(key);
    if (!list) m.set(key, (list = []));
    list.push(y[rows[i]]);
  }
  return m;
}

export const userLabelStats = defineFeature({
  kind: 'user-label-stats',
  version: 2,
  labelAware: true,
  summary: "out-of-fold statistics of a user's (or any group's) popularity labels",
  params: z
    .object({
      group: z.string().default('uid').describe('column to group by (uid, or e.g. category)'),
      stats: z.array(z.enum(STATS)).default(['mean', 'median', 'std', 'count']).describe(`any of ${STATS.join(', ')}`),
      prior: z.number().min(0).default(3).describe('pseudo-posts at the global mean added to each mean (shrinkage)'),
      inner_folds: z.number().int().min(2).default(5).describe('inner folds giving training rows their values (history: all)'),
      history: z
        .enum(['all', 'past'])
        .default('all')
        .describe("all: every training post of the user; past: only the user's training posts made before this post"),
    })
    .strict(),
  fit({ table, rng }, params, trainRows, y) {
    const keys = params.group === 'uid' ? (table.uid as string[]) : asStrings(table, params.group);
    const names = params.stats.map((s) => `${params.group}_label_${s}`);
    const d = names.length;
    let globalMean = 0;
    for (const r of trainRows) globalMean += y[r];
    globalMean /= trainRows.length || 1;

    const block = (rows: ArrayLike<number>, groups: Map<string, number[]>): Matrix => {
      const m = createMatrix(rows.length, d, names);
      for (let i = 0; i < rows.length; i++) summarize(groups.get(keys[rows[i]] ?? '') ?? [], params.stats, params.prior, globalMean, m.data, i * d);
      return m;
    };

    if (params.history === 'past') {
      // Each user's training posts in time order; a row sees the labels strictly before it.
      const date = table.columns.postdate;
      if (date?.type !== 'number') throw new UserError('user-label-stats: history: past needs post dates (postdate column)');
      const t = date.values;
      const byUser = new Map<string, number[]>();
      for (const r of trainRows) {
        const k = keys[r];
        if (k === null) continue;
        let list = byUser.get(k);
        if (!list) byUser.set(k, (list = []));
        list.push(r);
      }
      for (const list of byUser.values()) list.sort((a, b) => t[a] - t[b] || a - b);
      const past = (rows: ArrayLike<number>): Matrix => {
        const m = createMatrix(rows.length, d, names);
        for (let i = 0; i < rows.length; i++) {
          const r = rows[i];
          const list = keys[r] === null ? undefined : byUser.get(keys[r]!);
          const before = list ? list.filter((q) => t[q] < t[r]).map((q) => y[q]) : [];
          summarize(before, params.stats, params.prior, globalMean, m.data, i * d);
        }
        return m;
      };
      return { train: past(trainRows), apply: past };
    }

    // Inner folds: training rows see only the labels of the other inner folds.
    const order = rng.fork('inner').shuffle(Array.from(trainRows));
    const inner = new Int32Array(table.n).fill(-1);
    order.forEach((r, i) => (inner[r] = i % params.inner_folds));
    const train = createMatrix(trainRows.length, d, names);
    const position = new Map<number, number>();
    trainRows.forEach((r, i) => position.set(r, i));
    for (let f = 0; f < params.inner_folds; f++) {
      const fitRows = order.filter((r) => inner[r] !== f);
      const groups = groupLabels(keys, fitRows, y);
      const these = order.filter((r) => inner[r] === f);
      const part = block(these, groups);
      these.forEach((r, i) => train.data.set(part.data.subarray(i * d, (i + 1) * d), position.get(r)! * d));
    }
    const all = groupLabels(keys, trainRows, y);
    return { train, apply: (rows) => block(rows, all) };
  },
});
