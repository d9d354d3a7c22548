/**
 * @file `time`: when a post was made, from `postdate` (unix seconds, UTC). Parts of the day and
 * calendar, and ages: how old the post is relative to the newest post in the data (newer posts
 * had less time to collect views) and how old the account was when posting (image track).
 *
 * @example
 *   - id: time
 *     kind: time
 *     params: { parts: [hour, weekday, age_days] }
 */
import { z } from 'zod';
import { fromColumns } from '../core/matrix.ts';
import { UserError } from '../core/errors.ts';
import { defineFeature } from './feature.ts';
import { asNumbers, hasColumn } from './column-values.ts';

const PARTS = ['hour', 'weekday', 'week_hour', 'day', 'month', 'day_of_year', 'iso_week', 'year', 'age_days', 'days_since_first', 'account_age_days'] as const;
type Part = (typeof PARTS)[number];

const DAY = 86400;

function isoWeek(d: Date): number {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const dow = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - dow);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  return Math.ceil(((t.getTime() - yearStart) / (DAY * 1000) + 1) / 7);
}

export const time = defineFeature({
  kind: 'time',
  version: 1,
  summary: 'hour, weekday, month, day of year, ISO week, post age and account age from postdate',
  params: z
    .object({
      parts: z.array(z.enum(PARTS)).default(['hour', 'weekday', 'week_hour', 'month', 'day_of_year', 'age_days', 'account_age_days']).describe(`any of ${PARTS.join(', ')}`),
      categorical: z.boolean().default(false).describe('flag hour, weekday and month as categorical columns'),
    })
    .strict(),
  compute({ table, log }, params) {
    if (!hasColumn(table, 'postdate')) throw new UserError('time: the dataset has no postdate (image track: the temporalspatial file is missing)');
    const t = asNumbers(table, 'postdate');
    let newest = -Infinity;
    let first = Infinity;
    for (const v of t) {
      if (Number.isFinite(v) && v > 0) {
        newest = Math.max(newest, v);
        first = Math.min(first, v);
      }
    }
    const firstDate = hasColumn(table, 'photo_firstdate') ? asNumbers(table, 'photo_firstdate') : null;
    const parts = params.parts.filter((p) => p !== 'account_age_days' || firstDate);
    if (parts.length < params.parts.length) log.info('time', 'no photo_firstdate column: account_age_days skipped');
    const cols = parts.map(() => new Float32Array(table.n).fill(NaN));
    for (let i = 0; i < table.n; i++) {
      const s = t[i];
      if (!Number.isFinite(s) || s <= 0) continue;
      const d = new Date(s * 1000);
      const values: Record<Part, () => number> = {
        hour: () => d.getUTCHours(),
        weekday: () => d.getUTCDay(),
        week_hour: () => d.getUTCDay() * 24 + d.getUTCHours(),
        day: () => d.getUTCDate(),
        month: () => d.getUTCMonth() + 1,
        day_of_year: () => Math.floor((s * 1000 - Date.UTC(d.getUTCFullYear(), 0, 1)) / (DAY * 1000)) + 1,
        iso_week: () => isoWeek(d),
        year: () => d.getUTCFullYear(),
        age_days: () => (newest - s) / DAY,
        days_since_first: () => (s - first) / DAY,
        account_age_days: () => {
          const f = firstDate ? firstDate[i] : NaN;
          return Number.isFinite(f) && f > 0 ? (s - f) / DAY : NaN;
        },
      };
      parts.forEach((p, c) => (cols[c][i] = values[p]()));
    }
    const categorical = parts.map((p) => params.categorical && (p === 'hour' || p === 'weekday' || p === 'month'));
    return fromColumns(cols, parts, categorical);
  },
});
