/**
 * @file Small helpers the notebooks share: markdown tables for Deno.jupyter.md, the newest run
 * folder, and the views of a run the report does not show (OOF error by segment, fold spread,
 * importance per feature block). Everything else the notebooks show comes from core/report.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Table } from '../core/data/table.ts';
import { mae } from '../core/eval/metrics.ts';
import { expandRunDirs } from '../core/report/compare.ts';
import { blockShares as sharesPerBlock, direction, foldSpread as spreadOf } from '../core/report/explain.ts';
import type { OofRows, RunFolder } from '../core/report/run-folder.ts';
import { activityBucket } from '../core/report/eda.ts';
import { mean } from '../core/report/stats.ts';

const cell = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : String(v ?? '')).replace(/\|/g, '\\|');

/** A markdown table (numbers to 4 decimals). */
export function mdTable(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

/** The most recently written run folder under root (runs/<pipeline>/<time>). */
export function newestRun(root: string): string {
  let dirs: string[];
  try {
    dirs = expandRunDirs([root]);
  } catch {
    throw new Error(`no run under ${root}: run a pipeline first (npm start), or set SMP_NB_RUN`);
  }
  const written = (d: string) => fs.statSync(path.join(d, 'metrics.json')).mtimeMs;
  return dirs.sort((a, b) => written(b) - written(a) || (a < b ? 1 : -1))[0];
}

/** Per learner: its CV on all OOF rows, and the mean and standard deviation of its fold scores. */
export function foldSpread(run: RunFolder): unknown[][] {
  const m = run.mainMetric;
  return run.models.map((model) => {
    const s = spreadOf(model.folds, m);
    return [model.id, `${m} (${direction(m)})`, model.scores[m], s.mean, s.std, s.n];
  });
}

/** Importance as shares (sum 1 per learner), summed over each block's columns (`block.column`). */
export function blockShares(run: RunFolder): unknown[][] {
  const per = run.models.map((model) => new Map(sharesPerBlock(model.importance).map((b) => [b.name, b.share])));
  const blocks = [...new Set(per.flatMap((p) => [...p.keys()]))];
  const row = (b: string) => per.map((p) => p.get(b) ?? 0);
  const total = (b: string) => row(b).reduce((s, v) => s + v, 0);
  return blocks.sort((a, b) => total(b) - total(a)).map((b) => [b, ...row(b)]);
}

/** MAE of the OOF predictions per category value (the 10 largest) and per user-activity bucket. */
export function errorBySegment(table: Table, oof: OofRows, category: string | null): unknown[][] {
  const row = new Map(table.pid.map((p, r) => [p, r]));
  const posts = new Map<string, number>();
  for (const u of table.uid) posts.set(u, (posts.get(u) ?? 0) + 1);
  const groups = new Map<string, { y: number[]; p: number[] }>();
  const add = (key: string, y: number, p: number) => {
    const g = groups.get(key) ?? { y: [], p: [] };
    g.y.push(y);
    g.p.push(p);
    groups.set(key, g);
  };
  oof.pid.forEach((pid, i) => {
    const r = row.get(pid);
    if (r === undefined || !Number.isFinite(oof.prediction[i])) return;
    const c = category ? (table.columns[category] as { values: (string | null)[] }).values[r] : null;
    if (c) add(`${category}\u0000${c}`, oof.label[i], oof.prediction[i]);
    add(`posts per user\u0000${activityBucket(posts.get(table.uid[r]) ?? 1)}`, oof.label[i], oof.prediction[i]);
  });
  const rows = [...groups.entries()].map(([k, g]) => [...k.split('\u0000'), g.y.length, mean(g.y), mae(g.y, g.p)] as [string, string, number, number, number]);
  const byCat = rows.filter((r) => r[0] !== 'posts per user').sort((a, b) => b[2] - a[2]).slice(0, 10);
  const lowest = (bucket: string) => Number(bucket.replace(/^>/, '').split('–')[0]);
  return [...byCat, ...rows.filter((r) => r[0] === 'posts per user').sort((a, b) => lowest(a[1]) - lowest(b[1]))];
}
