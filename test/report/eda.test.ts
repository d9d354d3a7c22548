import { describe, expect, it } from 'vitest';
import type { Table } from '../../core/data/table.ts';
import { activityMeans, categoryColumn, edaHtml, groupMeans, hourMeans, labelCorrelations } from '../../core/report/eda.ts';

/** 8 train + 2 test posts: user u1 posts 6 times, u2 twice, u3 and u4 once. */
function fakeTable(): Table {
  const label = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, NaN, NaN]);
  const hour = (h: number) => Date.UTC(2026, 0, 1, h) / 1000;
  return {
    track: 'image',
    root: 'fake',
    n: 10,
    nTrain: 8,
    nTest: 2,
    pid: Array.from({ length: 10 }, (_, i) => String(i)),
    uid: ['u1', 'u1', 'u1', 'u1', 'u2', 'u2', 'u3', 'u4', 'u1', 'u1'],
    label,
    columns: {
      category: { type: 'string', values: ['Food', 'Food', 'Food', 'Art', 'Art', null, 'Food', 'Art', 'Food', 'Art'] },
      postdate: { type: 'number', values: Float64Array.from([hour(3), hour(3), hour(10), hour(10), hour(10), NaN, hour(23), hour(23), hour(1), hour(2)]) },
      photo_count: { type: 'number', values: Float64Array.from([10, 20, 30, 40, 50, 60, 70, 80, 1, 1]) },
      constant: { type: 'number', values: new Float64Array(10).fill(3) },
      tags: { type: 'list', values: Array.from({ length: 10 }, (_, i) => (i % 2 ? [] : ['a'])) },
    },
    media: Array(10).fill(null),
    sources: [],
  };
}

describe('EDA', () => {
  it('groups train labels by category, hour (UTC) and user activity', () => {
    const t = fakeTable();
    expect(categoryColumn(t)).toBe('category');
    // a one-valued column is no grouping: the next candidate is used
    const one = { ...t, columns: { ...t.columns, category: { type: 'string' as const, values: Array(10).fill('x') }, video_ratio: { type: 'string' as const, values: Array.from({ length: 10 }, (_, i) => (i % 2 ? '9:16' : '16:9')) } } };
    expect(categoryColumn(one)).toBe('video_ratio');
    const cat = groupMeans(t, (r) => (t.columns.category as { values: (string | null)[] }).values[r]);
    expect(cat).toEqual([
      { group: 'Food', mean: (1 + 2 + 3 + 7) / 4, count: 4 },
      { group: 'Art', mean: (4 + 5 + 8) / 3, count: 3 },
    ]);
    expect(hourMeans(t)).toEqual([
      { group: '3', mean: 1.5, count: 2 },
      { group: '10', mean: 4, count: 3 },
      { group: '23', mean: 7.5, count: 2 },
    ]);
    // u1 has 6 posts (4 train + 2 test) -> bucket 6-20; u2 2 -> 2-5; u3, u4 -> 1
    expect(activityMeans(t)).toEqual([
      { group: '1', mean: 7.5, count: 2 },
      { group: '2–5', mean: 5.5, count: 2 },
      { group: '6–20', mean: 2.5, count: 4 },
    ]);
  });

  it('correlates numeric columns with the label on train rows, skipping constants', () => {
    const c = labelCorrelations(fakeTable());
    expect(c.map((x) => x.column).sort()).toEqual(['photo_count', 'postdate']);
    const pc = c.find((x) => x.column === 'photo_count')!;
    expect(pc.spearman).toBeCloseTo(1, 10);
    expect(pc.n).toBe(8);
    expect(c.find((x) => x.column === 'postdate')!.n).toBe(7);
  });

  it('writes an HTML page whose plots all render', async () => {
    const html = await edaHtml(fakeTable());
    const figs = [...html.matchAll(/<figure class="plot" id="plot-([^"]+)"[^>]*><svg[\s\S]*?role-mark[\s\S]*?<\/figure>/g)].map((m) => m[1]);
    expect(figs).toEqual(['label-distribution', 'by-category', 'by-hour', 'by-user-activity', 'label-correlation']);
    expect(html).not.toMatch(/<script|plot failed/);
    // missing shares: category 1 of 10, tags 5 of 10
    expect(html).toMatch(/<td>category<\/td><td>string<\/td><td>10\.0<\/td>/);
    expect(html).toMatch(/<td>tags<\/td><td>list<\/td><td>50\.0<\/td>/);
  });

  it('says which sections the dataset lacks columns for', async () => {
    const t = fakeTable();
    const { category: _c, postdate: _p, ...rest } = t.columns;
    const html = await edaHtml({ ...t, columns: rest });
    expect(html).toContain('No category column in this dataset.');
    expect(html).toContain('No postdate column in this dataset.');
  });
});
