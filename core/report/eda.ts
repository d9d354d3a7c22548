/**
 * @file Dataset exploration as a self-contained HTML page (used by notebooks/eda.ts): columns
 * and missing shares, label distribution, mean popularity by category, by hour of posting (UTC)
 * and by user activity (posts per user across train and test), and correlations of the numeric
 * columns with the label. Works on any Table (image or video track); sections whose columns
 * the dataset lacks say so.
 *
 * @example
 *   const html = await edaHtml(await readDataset('data/sample'));
 */
import { pearson, src } from '../eval/metrics.ts';
import type { Column, Table } from '../data/table.ts';
import { dl, esc, fmt, figure, htmlPage, section, table } from './html.ts';
import { renderSvg, type VlSpec } from './svg.ts';
import { distributionSpec } from './plots/distribution.ts';
import { groupMeanSpec, type GroupMean } from './plots/group-mean.ts';
import { labelCorrelationSpec } from './plots/label-correlation.ts';
import { mean } from './stats.ts';

const CATEGORY_COLUMNS = ['category', 'subcategory', 'concept', 'post_text_language', 'video_ratio', 'post_location', 'mediatype', 'video_format'];
const ACTIVITY = [
  [1, 1],
  [2, 5],
  [6, 20],
  [21, 100],
  [101, 500],
  [501, Infinity],
] as const;

function missingShare(c: Column, n: number): number {
  let miss = 0;
  if (c.type === 'number') for (const v of c.values) miss += Number.isNaN(v) ? 1 : 0;
  else if (c.type === 'string') for (const v of c.values) miss += v === null || v === '' ? 1 : 0;
  else if (c.type === 'list') for (const v of c.values) miss += v.length === 0 ? 1 : 0;
  else for (let r = 0; r < n; r++) miss += Number.isNaN(c.values[r * c.dim]) ? 1 : 0;
  return miss / Math.max(1, n);
}

/** Mean train label per group key (null keys skipped), groups sorted by count, top `limit`. */
export function groupMeans(table: Table, key: (row: number) => string | null, limit = Infinity): GroupMean[] {
  const acc = new Map<string, { s: number; n: number }>();
  for (let r = 0; r < table.nTrain; r++) {
    const y = table.label[r];
    const k = key(r);
    if (k === null || !Number.isFinite(y)) continue;
    const a = acc.get(k) ?? { s: 0, n: 0 };
    a.s += y;
    a.n++;
    acc.set(k, a);
  }
  return [...acc.entries()]
    .map(([group, a]) => ({ group, mean: a.s / a.n, count: a.n }))
    .sort((a, b) => b.count - a.count || (a.group < b.group ? -1 : 1))
    .slice(0, limit);
}

/** The first known categorical column with at least two values among train rows. */
export function categoryColumn(table: Table): string | null {
  for (const c of CATEGORY_COLUMNS) {
    const col = table.columns[c];
    if (col?.type !== 'string') continue;
    const seen = new Set<string>();
    for (let r = 0; r < table.nTrain && seen.size < 2; r++) if (col.values[r]) seen.add(col.values[r]!);
    if (seen.size >= 2) return c;
  }
  return null;
}

export function hourMeans(table: Table): GroupMean[] | null {
  const pd = table.columns.postdate;
  if (pd?.type !== 'number') return null;
  const rows = groupMeans(table, (r) => (Number.isFinite(pd.values[r]) && pd.values[r] > 0 ? String(new Date(pd.values[r] * 1000).getUTCHours()) : null));
  return rows.sort((a, b) => Number(a.group) - Number(b.group));
}

/** The user-activity bucket of a user with n posts: "1", "2–5", ..., ">500". */
export function activityBucket(n: number): string {
  const b = ACTIVITY.find(([lo, hi]) => n >= lo && n <= hi)!;
  return b[0] === b[1] ? `${b[0]}` : Number.isFinite(b[1]) ? `${b[0]}–${b[1]}` : `>${b[0] - 1}`;
}

export function activityMeans(table: Table): GroupMean[] {
  const posts = new Map<string, number>();
  for (const u of table.uid) posts.set(u, (posts.get(u) ?? 0) + 1);
  const order = ACTIVITY.map(([lo]) => activityBucket(lo));
  return groupMeans(table, (r) => activityBucket(posts.get(table.uid[r]) ?? 1)).sort((a, b) => order.indexOf(a.group) - order.indexOf(b.group));
}

export function labelCorrelations(table: Table): { column: string; spearman: number; pearson: number; n: number }[] {
  const out: { column: string; spearman: number; pearson: number; n: number }[] = [];
  for (const [name, c] of Object.entries(table.columns)) {
    if (c.type !== 'number') continue;
    const x: number[] = [];
    const y: number[] = [];
    for (let r = 0; r < table.nTrain; r++)
      if (Number.isFinite(c.values[r]) && Number.isFinite(table.label[r])) {
        x.push(c.values[r]);
        y.push(table.label[r]);
      }
    if (x.length < 3 || x.every((v) => v === x[0])) continue;
    out.push({ column: name, spearman: src(y, x), pearson: pearson(y, x), n: x.length });
  }
  return out;
}

async function fig(name: string, spec: VlSpec | null, caption: string, empty: string): Promise<string> {
  if (!spec) return `<figure class="plot-missing" data-missing="${esc(name)}"><p class="note">${esc(empty)}</p></figure>`;
  try {
    return figure(name, await renderSvg(spec, { idPrefix: name }), caption);
  } catch (e) {
    return figure(name, { error: (e as Error).message }, caption);
  }
}

export async function edaHtml(table: Table, o: { title?: string } = {}): Promise<string> {
  const y = Array.from(table.label.subarray(0, table.nTrain)).filter(Number.isFinite);
  const overall = mean(y);
  const sorted = [...y].sort((a, b) => a - b);
  const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN);
  const users = new Set(table.uid).size;
  const summary = dl([
    ['dataset', table.root],
    ['track', table.track],
    ['posts', `${table.nTrain} train, ${table.nTest} test`],
    ['users', users],
    ['label (train)', `mean ${fmt(overall)}, min ${fmt(sorted[0])}, median ${fmt(q(0.5))}, max ${fmt(sorted[sorted.length - 1])}`],
  ]);
  const colRows = Object.entries(table.columns)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, c]) => [name, c.type === 'vector' ? `vector(${c.dim})` : c.type, (missingShare(c, table.n) * 100).toFixed(1)]);

  const cat = categoryColumn(table);
  const catRows = cat ? groupMeans(table, (r) => (table.columns[cat] as { values: (string | null)[] }).values[r] || null, 25) : [];
  const hours = hourMeans(table);
  const activity = activityMeans(table);
  const corr = labelCorrelations(table).sort((a, b) => Math.abs(b.spearman) - Math.abs(a.spearman)).slice(0, 30);

  const figures = [
    await fig('label-distribution', y.length ? distributionSpec([{ name: 'train label', values: y }], { title: 'Label distribution (train)' }) : null, 'Share of train posts per bin.', 'No labelled train posts.'),
    await fig('by-category', catRows.length ? groupMeanSpec(catRows, { title: `Mean popularity by ${cat} (${catRows.length} most frequent)`, overall, horizontal: true }) : null, `Numbers: train posts per ${cat}; dashed: overall mean.`, 'No category column in this dataset.'),
    await fig('by-hour', hours?.length ? groupMeanSpec(hours, { title: 'Mean popularity by hour of posting (UTC)', groupTitle: 'hour (UTC)', overall }) : null, 'From postdate; numbers: train posts per hour.', 'No postdate column in this dataset.'),
    await fig('by-user-activity', activity.length ? groupMeanSpec(activity, { title: 'Mean popularity by user activity', groupTitle: 'posts per user (train + test)', overall }) : null, 'Users bucketed by their number of posts in train and test.', 'No labelled train posts.'),
    await fig('label-correlation', corr.length ? labelCorrelationSpec(corr) : null, 'Train rows where the column is present.', 'No numeric columns besides the label.'),
  ];
  return htmlPage(o.title ?? `EDA: ${table.root}`, `${table.track} track · ${table.nTrain} train / ${table.nTest} test posts`, [
    section('Dataset', summary, 'summary'),
    section('Columns', table_(colRows), 'columns'),
    section('Plots', `<div class="grid">${figures.join('\n')}</div>`, 'plots'),
  ]);
}

function table_(rows: (string | number)[][]): string {
  return table(['column', 'type', 'missing %'], rows);
}
