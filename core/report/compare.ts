/**
 * @file `smp compare <run dirs...>`: a leaderboard of runs. Each argument is a run folder, or a
 * folder holding run folders (`runs/demo`, `runs`), expanded in name order. Rows are ranked by
 * the final CV main metric when all runs share it (else kept in the given order); columns are
 * pipeline, run folder (timestamp), seed, final metrics, and every learner's main metric.
 * A multi-target run shows its first target (`pipeline [target]`).
 * Printed as a terminal table; `writeCompareHtml` writes the same table plus a dot plot as a
 * self-contained HTML file.
 *
 * @example
 *   const board = leaderboard(expandRunDirs(['runs/demo']).map(readRunFolder));
 *   console.log(formatLeaderboard(board));
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { writeFileAtomic } from '../cache/atomic.ts';
import { beats, readRunFolder, type RunFolder } from './run-folder.ts';
import { esc, figure, fmt, htmlPage, section, table } from './html.ts';
import { renderSvg, round, type VlSpec } from './svg.ts';

export interface BoardRow {
  rank: number;
  pipeline: string;
  run: string;
  dir: string;
  seed: number | undefined;
  mainMetric: string;
  final: Record<string, number>;
  /** Learner id -> its CV main metric. */
  models: Record<string, number>;
}

export interface Board {
  rows: BoardRow[];
  /** Shared main metric, or null when runs differ (then rows keep the given order). */
  metric: string | null;
  finalMetrics: string[];
  modelIds: string[];
}

const isRun = (d: string) => fs.existsSync(path.join(d, 'run.json'));

function subdirs(d: string): string[] {
  return fs
    .readdirSync(d, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => path.join(d, e.name))
    .sort();
}

/** Run folders named by the arguments (a run folder, or up to two levels above run folders). */
export function expandRunDirs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (!fs.existsSync(a) || !fs.statSync(a).isDirectory()) throw new UserError(`${a}: folder not found`);
    if (isRun(a)) {
      out.push(a);
      continue;
    }
    const level1 = subdirs(a);
    const found = level1.filter(isRun);
    if (!found.length) for (const s of level1) found.push(...subdirs(s).filter(isRun));
    if (!found.length) throw new UserError(`${a}: no run folders here (a run folder holds run.json and metrics.json: runs/<pipeline>/<timestamp>/)`);
    out.push(...found);
  }
  return [...new Set(out.map((d) => path.normalize(d)))];
}

export function leaderboard(runs: readonly RunFolder[]): Board {
  const metrics = new Set(runs.map((r) => r.mainMetric));
  const metric = metrics.size === 1 ? [...metrics][0] : null;
  const rows: BoardRow[] = runs.map((r) => ({
    rank: 0,
    // a multi-target run is ranked on its first target, named beside the pipeline
    pipeline: r.target === null ? r.pipeline : `${r.pipeline} [${r.target}]`,
    run: r.name,
    dir: r.dir,
    seed: r.info.seed,
    mainMetric: r.mainMetric,
    final: r.finalScores,
    models: Object.fromEntries(r.models.map((m) => [m.id, m.scores[r.mainMetric] ?? NaN])),
  }));
  if (metric) rows.sort((a, b) => (beats(metric, a.final[metric] ?? NaN, b.final[metric] ?? NaN) ? -1 : beats(metric, b.final[metric] ?? NaN, a.final[metric] ?? NaN) ? 1 : 0));
  rows.forEach((r, i) => (r.rank = i + 1));
  const finalMetrics = [...new Set(rows.flatMap((r) => [r.mainMetric, ...Object.keys(r.final)]))];
  if (metric) finalMetrics.sort((a, b) => (a === metric ? -1 : b === metric ? 1 : 0));
  const modelIds = [...new Set(rows.flatMap((r) => Object.keys(r.models)))];
  return { rows, metric, finalMetrics, modelIds };
}

function boardTable(b: Board): { header: string[]; cells: (string | number | undefined)[][] } {
  const header = ['#', 'pipeline', 'run', 'seed', ...(b.metric ? [] : ['metric']), ...b.finalMetrics.map((m) => `final ${m.toUpperCase()}`), ...b.modelIds.map((id) => `${id}${b.metric ? ` ${b.metric.toUpperCase()}` : ''}`)];
  const cells = b.rows.map((r) => [r.rank, r.pipeline, r.run, r.seed, ...(b.metric ? [] : [r.mainMetric]), ...b.finalMetrics.map((m) => r.final[m]), ...b.modelIds.map((id) => r.models[id])]);
  return { header, cells };
}

/** Plain-text table, numbers right-aligned with 4 decimals. */
export function formatLeaderboard(b: Board): string {
  const { header, cells } = boardTable(b);
  const text = cells.map((row) => row.map((c) => fmt(c)));
  const numeric = header.map((_, j) => cells.every((row) => typeof row[j] === 'number' || row[j] === undefined));
  const width = header.map((h, j) => Math.max(h.length, ...text.map((r) => r[j].length)));
  const line = (r: string[]) => r.map((c, j) => (numeric[j] ? c.padStart(width[j]) : c.padEnd(width[j]))).join('  ').trimEnd();
  const out = [line(header), width.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)];
  if (!b.metric) out.push('', 'runs use different main metrics: kept in the given order');
  else out.push('', `ranked by final CV ${b.metric.toUpperCase()}; per-learner columns show each learner's CV ${b.metric.toUpperCase()}`);
  return out.join('\n');
}

export function leaderboardSpec(b: Board): VlSpec | null {
  if (!b.metric) return null;
  const m = b.metric;
  const label = (r: BoardRow) => `#${r.rank} ${r.pipeline}/${r.run}`;
  const values = b.rows.flatMap((r) => [
    ...(Number.isFinite(r.final[m]) ? [{ run: label(r), learner: 'final', value: round(r.final[m]) }] : []),
    ...Object.entries(r.models).filter(([, v]) => Number.isFinite(v)).map(([id, v]) => ({ run: label(r), learner: id, value: round(v) })),
  ]);
  return {
    title: `CV ${m.toUpperCase()} per run`,
    width: 420,
    height: { step: 22 },
    data: { values },
    mark: { type: 'point', filled: true, size: 70 },
    encoding: {
      y: { field: 'run', type: 'nominal', sort: b.rows.map(label), title: null, axis: { labelLimit: 260 } },
      x: { field: 'value', type: 'quantitative', scale: { zero: false }, title: m.toUpperCase(), axis: { format: '.4~f' } },
      color: { field: 'learner', type: 'nominal', title: 'learner' },
      shape: { field: 'learner', type: 'nominal' },
    },
  };
}

export async function compareHtml(b: Board): Promise<string> {
  const { header, cells } = boardTable(b);
  const spec = leaderboardSpec(b);
  let plot = '';
  if (spec) {
    try {
      plot = figure('leaderboard', await renderSvg(spec, { idPrefix: 'leaderboard' }));
    } catch (e) {
      plot = figure('leaderboard', { error: (e as Error).message });
    }
  }
  const note = b.metric ? `Ranked by final CV ${b.metric.toUpperCase()}.` : 'Runs use different main metrics: kept in the given order.';
  return htmlPage(`Leaderboard of ${b.rows.length} run${b.rows.length === 1 ? '' : 's'}`, note, [
    section('Runs', table(header, cells, { className: 'board', rowClass: (i) => (i === 0 && b.metric ? 'best' : '') }) + `<p class="note">${esc(b.rows.map((r) => r.dir).join(' · '))}</p>`, 'runs'),
    plot ? section('Plot', `<div class="grid">${plot}</div>`, 'plots') : '',
  ]);
}

/** Reads the runs, prints nothing; returns the board (and writes the HTML when asked). */
export async function compareRuns(args: readonly string[], opts: { html?: string } = {}): Promise<{ board: Board; text: string; html?: string }> {
  const board = leaderboard(expandRunDirs(args).map(readRunFolder));
  const text = formatLeaderboard(board);
  if (opts.html) {
    writeFileAtomic(opts.html, await compareHtml(board));
    return { board, text, html: opts.html };
  }
  return { board, text };
}
