/**
 * @file `user-history`: a post's previous k posts by the same user (or any group), as columns:
 * per slot h1 (the latest earlier post) .. hk, that post's values of the input blocks, its label,
 * a label-known flag, its age in days (log1p) and a present flag. The sequence input of
 * `attention-lstm` with `sequence: user_history`; flat, any learner can read it.
 *
 * Label-aware: the runner fits it inside each fold, so only that fold's training labels appear
 * (a validation or test post in someone's past has its features but label NaN and label_known
 * 0), and a slot is always a strictly earlier post (same-time posts are not each other's past),
 * so a row never sees its own or a later label. Needs the time column (`postdate`; the table
 * track's `data.time`) and the group column (`uid`; the table track's `data.group`).
 *
 * Computed by sorting once per fit (group, time, row) and reading each row's k predecessors:
 * O(n log n + n k width), never a scan of a user's history per row. Empty slots are NaN with
 * present 0. Width: k x (input columns + 4); keep the inputs small (a metadata block, not a
 * 512-d embedding).
 *
 * @example
 *   - id: hist
 *     kind: user-history
 *     inputs: [cols]
 *     params: { k: 8 }
 */
import { z } from 'zod';
import { createMatrix, type Matrix } from '../core/matrix.ts';
import { UserError } from '../core/errors.ts';
import { defineFeature } from './feature.ts';
import { asStrings } from './column-values.ts';
import { groupCodes } from './user-label-stats.ts';

const EXTRA = ['label', 'label_known', 'age_days', 'present'] as const;

export const userHistory = defineFeature({
  kind: 'user-history',
  version: 1,
  labelAware: true,
  summary: "a post's previous k posts by the same user: their input features, labels (fold-training only), age, presence",
  params: z
    .object({
      group: z.string().default('uid').describe('column whose posts form a history (uid, or the table track group column)'),
      k: z.number().int().min(1).max(64).default(8).describe('previous posts per row (slots h1 = latest .. hk)'),
    })
    .strict(),
  tableColumns: (params) => ['postdate', ...(params.group === 'uid' ? [] : [params.group])],
  fit({ table, inputs }, params, trainRows, y) {
    const date = table.columns.postdate;
    if (date?.type !== 'number') throw new UserError('user-history: needs post times (postdate; data.time on the table track)');
    const time = date.values;
    const keys = params.group === 'uid' ? (table.uid as string[]) : asStrings(table, params.group);
    const { codes } = groupCodes(keys);
    const n = table.n;
    // Rows with a group and a time, sorted by (group, time, row).
    const sorted = Int32Array.from({ length: n }, (_, r) => r).filter((r) => codes[r] >= 0 && Number.isFinite(time[r]));
    sorted.sort((a, b) => codes[a] - codes[b] || time[a] - time[b] || a - b);
    // Per row: where its strictly earlier posts end (the first same-time post of its group) and where its group starts.
    const pastEnd = new Int32Array(n).fill(-1);
    const groupStart = new Int32Array(n).fill(-1);
    let gs = 0;
    let tie = 0;
    for (let i = 0; i < sorted.length; i++) {
      const r = sorted[i];
      if (i > 0 && codes[sorted[i - 1]] !== codes[r]) gs = tie = i;
      else if (i > 0 && time[sorted[i - 1]] !== time[r]) tie = i;
      pastEnd[r] = tie;
      groupStart[r] = gs;
    }
    const known = new Uint8Array(n);
    for (const r of trainRows) known[r] = 1;
    const blocks = Object.values(inputs);
    const F = blocks.reduce((s, b) => s + b.cols, 0);
    const slotWidth = F + EXTRA.length;
    const names: string[] = [];
    const categorical: boolean[] = [];
    for (let j = 1; j <= params.k; j++) {
      for (const b of blocks) {
        names.push(...b.names.map((c) => `h${j}.${c}`));
        categorical.push(...b.categorical);
      }
      names.push(...EXTRA.map((e) => `h${j}.${e}`));
      categorical.push(...EXTRA.map(() => false));
    }
    const write = (rows: Int32Array): Matrix => {
      const m = createMatrix(rows.length, names.length, names, categorical);
      m.data.fill(NaN);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i];
        for (let j = 1; j <= params.k; j++) {
          const o = i * m.cols + (j - 1) * slotWidth;
          const q = pastEnd[r] - j;
          if (pastEnd[r] < 0 || q < groupStart[r]) {
            m.data[o + F + 1] = 0; // label_known
            m.data[o + F + 3] = 0; // present
            continue;
          }
          const src = sorted[q];
          let at = o;
          for (const b of blocks) {
            m.data.set(b.data.subarray(src * b.cols, (src + 1) * b.cols), at);
            at += b.cols;
          }
          m.data[o + F] = known[src] ? y[src] : NaN;
          m.data[o + F + 1] = known[src];
          m.data[o + F + 2] = Math.log1p(Math.max(0, time[r] - time[src]) / 86400);
          m.data[o + F + 3] = 1;
        }
      }
      return m;
    };
    return { train: write(trainRows), apply: write };
  },
});
