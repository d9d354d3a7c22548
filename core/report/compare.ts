/**
 * @file `smp compare <run dirs...>`: leaderboards of runs. Each argument is a run folder, or a
 * folder holding run folders (`runs/demo`, `runs`), expanded in name order. Runs are grouped by
 * dataset (run.json's data fingerprint, a hash of the dataset files' contents; the data folder
 * for older runs without one), label column, task and main metric, and ranked only within a
 * group by the final CV main metric: runs on different data or labels are never ranked against
 * each other. Each group names its dataset (path, fingerprint, sizes), label (table track),
 * task and metric (with its direction); columns are pipeline, run folder (timestamp), seed, the
 * group's final metrics, and every learner's main metric. A multi-target run joins one group per
 * target (`pipeline [target]`); a one-target run of one of its columns reads another column
 * spec (the other labels become inputs), so its fingerprint and group differ. Printed as
 * terminal tables; `--html` writes the same tables plus a dot plot per group as a
 * self-contained HTML file (`compareRuns(dirs, { html })`).
 *
 * @example
 *   const board = leaderboard(expandRunDirs(['runs/demo']).flatMap(readRunTargets));
 *   console.log(formatLeaderboard(board));
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { writeFileAtomic } from '../cache/atomic.ts';
import { beats, labelOf, readRunTargets, type RunFolder } from './run-folder.ts';
import { esc, figure, fmtMetric, htmlPage, section, table } from './html.ts';
import { renderSvg, round, type VlSpec } from './svg.ts';
import { textTable } from './text-table.ts';
import { direction, metricHeader } from './explain.ts';

export interface BoardRow {
  rank: number;
  pipeline: string;
  run: string;
  dir: string;
  seed: number | undefined;
  final: Record<string, number>;
  /** Learner id -> its CV main metric. */
  models: Record<string, number>;
}

export interface Dataset {
  /** The data folder (or table file) as run.json records it. */
  root: string;
  /** Hash of the dataset files' names and contents; null for runs made before the kit recorded it. */
  fingerprint: string | null;
  train?: number;
  test?: number;
}

/** Runs on one dataset with one task and main metric, ranked best first. */
export interface BoardGroup {
  dataset: Dataset;
  /** The label column ranked (table track), else null. */
  label: string | null;
  task: string;
  metric: string;
  rows: BoardRow[];
  finalMetrics: string[];
  modelIds: string[];
}

export interface Board {
  groups: BoardGroup[];
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

function datasetOf(r: RunFolder): Dataset {
  const d = r.info.data ?? {};
  return { root: d.root ?? '?', fingerprint: d.fingerprint ?? null, train: d.train, test: d.test };
}

/** Groups runs (one view per target) by dataset, label, task and main metric (in order of first appearance) and ranks each group. */
export function leaderboard(runs: readonly RunFolder[]): Board {
  const byKey = new Map<string, { dataset: Dataset; label: string | null; task: string; metric: string; runs: RunFolder[] }>();
  for (const r of runs) {
    const dataset = datasetOf(r);
    const label = labelOf(r);
    const key = JSON.stringify([dataset.fingerprint ?? `root:${path.resolve(dataset.root)}`, label, r.task, r.mainMetric]);
    if (!byKey.has(key)) byKey.set(key, { dataset, label, task: r.task, metric: r.mainMetric, runs: [] });
    byKey.get(key)!.runs.push(r);
  }
  const groups = [...byKey.values()].map(({ dataset, label, task, metric, runs: rs }): BoardGroup => {
    const rows: BoardRow[] = rs.map((r) => ({
      rank: 0,
      // a multi-target run's target, named beside the pipeline
      pipeline: r.target === null ? r.pipeline : `${r.pipeline} [${r.target}]`,
      run: r.name,
      dir: r.dir,
      seed: r.info.seed,
      final: r.finalScores,
      models: Object.fromEntries(r.models.map((m) => [m.id, m.scores[metric] ?? NaN])),
    }));
    rows.sort((a, b) => (beats(metric, a.final[metric] ?? NaN, b.final[metric] ?? NaN) ? -1 : beats(metric, b.final[metric] ?? NaN, a.final[metric] ?? NaN) ? 1 : 0));
    rows.forEach((r, i) => (r.rank = i + 1));
    const finalMetrics = [metric, ...new Set(rows.flatMap((r) => Object.keys(r.final)))].filter((m, i, a) => a.indexOf(m) === i);
    const modelIds = [...new Set(rows.flatMap((r) => Object.keys(r.models)))];
    return { dataset, label, task, metric, rows, finalMetrics, modelIds };
  });
  return { groups };
}

/** The data folder as the reader knows it: relative to the working directory when inside it. */
function shownRoot(root: string): string {
  const rel = path.relative(process.cwd(), root);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : root;
}

/** "dataset data/sample (fingerprint 3f2a..., 3000 train / 1000 test posts), regression, ranked by final CV SRC ↑ (higher is better)". */
export function groupTitle(g: BoardGroup): string {
  const d = g.dataset;
  const size = d.train !== undefined ? `, ${d.train} train / ${d.test ?? '?'} test posts` : '';
  return `dataset ${shownRoot(d.root)} (${d.fingerprint ? `fingerprint ${d.fingerprint}` : 'no fingerprint recorded: grouped by folder'}${size}), ${g.label === null ? '' : `label ${g.label}, `}${g.task}, ranked by final CV ${metricHeader(g.metric)} (${direction(g.metric) ?? 'higher is better'})`;
}

function groupTable(g: BoardGroup): { header: string[]; cells: (string | number | undefined)[][] } {
  const header = ['#', 'pipeline', 'run', 'seed', ...g.finalMetrics.map((m) => `final ${metricHeader(m)}`), ...g.modelIds.map((id) => `${id} ${metricHeader(g.metric)}`)];
  const cells = g.rows.map((r) => [r.rank, r.pipeline, r.run, r.seed, ...g.finalMetrics.map((m) => fmtMetric(r.final[m])), ...g.modelIds.map((id) => fmtMetric(r.models[id]))]);
  return { header, cells };
}

const APART = 'runs on different datasets (or tasks, or main metrics) are listed apart and never ranked against each other';

/** Plain-text tables, one per group, metric values with 4 decimals. */
export function formatLeaderboard(b: Board): string {
  const out: string[] = [];
  for (const g of b.groups) {
    const { header, cells } = groupTable(g);
    out.push(groupTitle(g), textTable(header, cells), `per-learner columns show each learner's CV ${g.metric.toUpperCase()}`, '');
  }
  if (b.groups.length > 1) out.push(`${b.groups.length} groups: ${APART}`);
  return out.join('\n').trimEnd();
}

export function leaderboardSpec(g: BoardGroup): VlSpec {
  const m = g.metric;
  const label = (r: BoardRow) => `#${r.rank} ${r.pipeline}/${r.run}`;
  const values = g.rows.flatMap((r) => [
    ...(Number.isFinite(r.final[m]) ? [{ run: label(r), learner: 'final', value: round(r.final[m]) }] : []),
    ...Object.entries(r.models).filter(([, v]) => Number.isFinite(v)).map(([id, v]) => ({ run: label(r), learner: id, value: round(v) })),
  ]);
  return {
    title: `CV ${metricHeader(m)} per run`,
    width: 420,
    height: { step: 22 },
    data: { values },
    mark: { type: 'point', filled: true, size: 70 },
    encoding: {
      y: { field: 'run', type: 'nominal', sort: g.rows.map(label), title: null, axis: { labelLimit: 260 } },
      x: { field: 'value', type: 'quantitative', scale: { zero: false }, title: metricHeader(m), axis: { format: '.4~f' } },
      color: { field: 'learner', type: 'nominal', title: 'learner' },
      shape: { field: 'learner', type: 'nominal' },
    },
  };
}

export async function compareHtml(b: Board): Promise<string> {
  const sections: string[] = [];
  for (const [i, g] of b.groups.entries()) {
    const { header, cells } = groupTable(g);
    let plot: string;
    try {
      plot = figure(`leaderboard-${i + 1}`, await renderSvg(leaderboardSpec(g), { idPrefix: `leaderboard-${i + 1}` }));
    } catch (e) {
      plot = figure(`leaderboard-${i + 1}`, { error: (e as Error).message });
    }
    sections.push(
      section(
        groupTitle(g),
        table(header, cells, { className: 'board', rowClass: (k) => (k === 0 ? 'best' : '') }) + `<p class="note">${esc(g.rows.map((r) => r.dir).join(' · '))}</p><div class="grid">${plot}</div>`,
        `group-${i + 1}`,
      ),
    );
  }
  const n = b.groups.reduce((s, g) => s + g.rows.length, 0);
  const note = b.groups.length > 1 ? `${b.groups.length} groups: ${APART}.` : 'Ranked by the final CV main metric.';
  return htmlPage(`Leaderboard of ${n} run${n === 1 ? '' : 's'}`, note, sections);
}

/** Reads the runs, prints nothing; returns the board (and writes the HTML when asked). */
export async function compareRuns(args: readonly string[], opts: { html?: string } = {}): Promise<{ board: Board; text: string; html?: string }> {
  const board = leaderboard(expandRunDirs(args).flatMap(readRunTargets));
  const text = formatLeaderboard(board);
  if (opts.html) {
    writeFileAtomic(opts.html, await compareHtml(board));
    return { board, text, html: opts.html };
  }
  return { board, text };
}
