/**
 * @file Reads a run folder (`runs/<pipeline>/<timestamp>/`) into typed values for reports and
 * the `smp compare` leaderboard: run.json, metrics.json, per-model OOF / test / importance CSVs,
 * and the final predictions (`final.oof.csv` / `final.test.csv` when the runner wrote them,
 * else the best model's by the run's main metric). Missing optional files give empty values,
 * a missing run.json or metrics.json is an error naming the folder.
 * A run with several targets (metrics.json `{ "targets": { <target>: {...} } }`, files
 * `<model>.<target>.oof.csv`) is read one target at a time: `readRunTarget(dir, target)`;
 * readRunFolder gives the first target, readRunTargets every one.
 *
 * @example
 *   const run = readRunFolder('runs/demo/20260101-120000');
 *   console.log(run.info.config.name, run.models.map((m) => m.id), run.final.source);
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { METRICS, type MetricName } from '../eval/metrics.ts';
import type { GateSummary } from '../../models/model.ts';

export type ScoreMap = Record<string, number>;

export interface RunInfo {
  kit_version?: string;
  git_commit?: string | null;
  argv?: string[];
  node?: string;
  pipeline_file?: string;
  seed?: number;
  started?: string;
  seconds?: number;
  /** fingerprint: hash of the dataset files' names and contents (the block cache's), absent in older runs. */
  data?: { root?: string; train?: number; test?: number; fingerprint?: string };
  feature_keys?: Record<string, string>;
  /** The block cache the run used (its `--cache` / SMP_CACHE_DIR, else <work dir>/.cache). */
  cache_dir?: string;
  counters?: Record<string, number>;
  main_metric?: string;
  submission?: string;
  config?: {
    name?: string;
    track?: string;
    task?: string;
    validation?: Record<string, unknown>;
    models?: { id: string; kind: string }[];
    features?: { id: string; kind: string }[];
    ensemble?: Record<string, unknown>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface OofRows {
  pid: string[];
  label: Float64Array;
  fold: Int32Array;
  /** NaN where the row was never validated. */
  prediction: Float64Array;
}

export interface ModelRun {
  id: string;
  scores: ScoreMap;
  folds: ScoreMap[];
  oof: OofRows | null;
  test: { pid: string[]; prediction: Float64Array } | null;
  importance: { feature: string; importance: number }[];
  /** Gated learners: metrics.json `gates` (mean gate weight per expert, overall and per segment). */
  gates?: GateSummary;
  /** What the importances measure (metrics.json `importance_method`), absent in older runs. */
  importanceMethod?: string;
}

/** metrics.json `ensemble`: weights are {learner: w} or {group: {member: w}}; other keys shown as-is. */
export interface EnsembleInfo {
  method?: string;
  weights?: Record<string, number | Record<string, number>>;
  groups?: { id: string; members: string[]; scores: ScoreMap }[];
  postprocess?: Record<string, number>;
  [k: string]: unknown;
}

/** How the CV was validated (metrics.json `validation`, from the runner); absent in older runs. */
export interface ValidationInfo {
  scheme?: string;
  early_stopping?: string;
  /** True when some learner chose its rounds on the rows it is scored on. */
  optimistic?: boolean;
  note?: string;
  [k: string]: unknown;
}

export interface PseudoRound {
  round: number;
  scores: ScoreMap;
  /** True for the round the runner kept (when it says). */
  chosen?: boolean;
  /** Paired per-fold gain of the main metric over round 0 (positive = better): mean and standard error. */
  gain?: { mean: number; se: number };
}

export interface RunFolder {
  dir: string;
  /** Every target of a multi-target run, in order; empty for one target. */
  targets: string[];
  /** The target this view holds (null for a one-target run). */
  target: string | null;
  /** Folder name, normally the timestamp. */
  name: string;
  info: RunInfo;
  pipeline: string;
  task: 'regression' | 'binary';
  mainMetric: MetricName;
  models: ModelRun[];
  finalScores: ScoreMap;
  ensemble: EnsembleInfo | null;
  validation: ValidationInfo | null;
  pseudoRounds: PseudoRound[];
  final: {
    /** 'final' when final.oof.csv / final.test.csv exist, else the id of the best model. */
    source: string;
    oof: OofRows | null;
    test: { pid: string[]; prediction: Float64Array } | null;
  };
}

const RESERVED = new Set(['final', 'ensemble', 'pseudo_label_rounds', 'validation']);

/** Splits one CSV line; handles double-quoted fields (the runner writes none, users might). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Reads a CSV with a header into columns by name; null when the file is absent. */
export function readCsv(file: string): Record<string, string[]> | null {
  if (!fs.existsSync(file)) return null;
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  if (lines.length === 0) return {};
  const header = splitCsvLine(lines[0]);
  const cols: Record<string, string[]> = Object.fromEntries(header.map((h) => [h, [] as string[]]));
  for (let i = 1; i < lines.length; i++) {
    const cells = splitCsvLine(lines[i]);
    header.forEach((h, j) => cols[h].push(cells[j] ?? ''));
  }
  return cols;
}

const num = (s: string): number => (s === '' ? NaN : Number(s));

function need(cols: Record<string, string[]>, file: string, names: string[]): void {
  for (const n of names) if (!cols[n]) throw new UserError(`${file}: missing column "${n}" (has ${Object.keys(cols).join(', ') || 'nothing'})`);
}

export function readOof(file: string): OofRows | null {
  const c = readCsv(file);
  if (!c) return null;
  need(c, file, ['pid', 'label', 'fold', 'prediction']);
  return {
    pid: c.pid,
    label: Float64Array.from(c.label, num),
    fold: Int32Array.from(c.fold, (s) => (s === '' ? -1 : Number(s))),
    prediction: Float64Array.from(c.prediction, num),
  };
}

export function readTest(file: string): { pid: string[]; prediction: Float64Array } | null {
  const c = readCsv(file);
  if (!c) return null;
  need(c, file, ['pid', 'prediction']);
  return { pid: c.pid, prediction: Float64Array.from(c.prediction, num) };
}

export function readImportance(file: string): { feature: string; importance: number }[] {
  const c = readCsv(file);
  if (!c || !c.feature || !c.importance) return [];
  return c.feature.map((f, i) => ({ feature: f, importance: num(c.importance[i]) })).filter((r) => Number.isFinite(r.importance));
}

function readJson<T>(file: string, what: string): T {
  if (!fs.existsSync(file)) throw new UserError(`${path.dirname(file)}: not a run folder (no ${what}); runs are written to runs/<pipeline>/<timestamp>/`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** The metric scores of an object; other numbers beside them (a learner's iterations, seconds) are not scores. */
function scoresOf(v: unknown): ScoreMap {
  const out: ScoreMap = {};
  if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (typeof x === 'number' && isMetricName(k)) out[k] = x;
  return out;
}

export function isMetricName(m: unknown): m is MetricName {
  return typeof m === 'string' && m in METRICS;
}

/** True when score a beats score b on metric m (unknown metrics: higher is better). */
export function beats(m: string, a: number, b: number): boolean {
  if (!Number.isFinite(b)) return Number.isFinite(a);
  if (!Number.isFinite(a)) return false;
  return isMetricName(m) && !METRICS[m].higherIsBetter ? a < b : a > b;
}

/** A metrics.json `gates` entry when it has the expected shape. */
function gatesOf(v: unknown): { gates?: GateSummary } {
  const g = v as GateSummary | undefined;
  if (!g || !Array.isArray(g.experts) || !Array.isArray(g.rows)) return {};
  return { gates: g };
}

/** A run folder; a multi-target run's first target (readRunTarget reads the others). */
export function readRunFolder(dir: string): RunFolder {
  return readRunTarget(dir, undefined);
}

/** Every target of a run folder, one view each (a one-target run: the one view). */
export function readRunTargets(dir: string): RunFolder[] {
  const first = readRunFolder(dir);
  return [first, ...first.targets.slice(1).map((t) => readRunTarget(dir, t))];
}

/** The label column a view scores: its target, else the pipeline's one label column (table track), else null (SMP tracks). */
export function labelOf(run: RunFolder): string | null {
  const label = (run.info.config?.data as { label?: unknown } | undefined)?.label;
  return run.target ?? (typeof label === 'string' ? label : null);
}

/** One target of a run folder (undefined: the first, or the only one). */
export function readRunTarget(dir: string, target: string | undefined): RunFolder {
  const info = readJson<RunInfo>(path.join(dir, 'run.json'), 'run.json');
  const all = readJson<Record<string, unknown>>(path.join(dir, 'metrics.json'), 'metrics.json');
  const byTarget = all.targets && typeof all.targets === 'object' ? (all.targets as Record<string, Record<string, unknown>>) : null;
  const targets = byTarget ? Object.keys(byTarget) : [];
  const view = byTarget ? (target ?? targets[0]) : null;
  if (target !== undefined && !(byTarget && target in byTarget))
    throw new UserError(`${dir}: no target "${target}" in metrics.json (${targets.length ? `targets: ${targets.join(', ')}` : 'a one-target run'})`);
  const metrics = view !== null ? byTarget![view] : all;
  const sfx = view !== null ? `.${view}` : '';
  const task = info.config?.task === 'binary' ? 'binary' : 'regression';
  const mainMetric: MetricName = isMetricName(info.main_metric) ? info.main_metric : task === 'binary' ? 'auc' : 'src';

  const models: ModelRun[] = [];
  for (const [id, v] of Object.entries(metrics)) {
    if (RESERVED.has(id) || !v || typeof v !== 'object') continue;
    const scores = scoresOf(v);
    if (Object.keys(scores).length === 0) continue;
    const method = (v as { importance_method?: unknown }).importance_method;
    const folds = Array.isArray((v as { folds?: unknown }).folds) ? ((v as { folds: unknown[] }).folds.map(scoresOf)) : [];
    models.push({
      id,
      scores,
      folds,
      oof: readOof(path.join(dir, `${id}${sfx}.oof.csv`)),
      test: readTest(path.join(dir, `${id}${sfx}.test.csv`)),
      importance: readImportance(path.join(dir, `${id}${sfx}.importance.csv`)),
      ...gatesOf((v as { gates?: unknown }).gates),
      ...(typeof method === 'string' ? { importanceMethod: method } : {}),
    });
  }

  const ens = metrics.ensemble;
  const ensemble = ens && typeof ens === 'object' ? (ens as EnsembleInfo) : null;
  const val = metrics.validation ?? info.validation;
  const validation = val && typeof val === 'object' ? (val as ValidationInfo) : null;
  const pseudoRounds: PseudoRound[] = Array.isArray(metrics.pseudo_label_rounds)
    ? (metrics.pseudo_label_rounds as { round?: unknown; scores?: unknown; chosen?: unknown; gain_mean?: unknown; gain_se?: unknown }[]).map((r, i) => ({
        round: typeof r.round === 'number' ? r.round : i,
        scores: scoresOf(r.scores ?? r),
        ...(typeof r.chosen === 'boolean' ? { chosen: r.chosen } : {}),
        ...(typeof r.gain_mean === 'number' && typeof r.gain_se === 'number' ? { gain: { mean: r.gain_mean, se: r.gain_se } } : {}),
      }))
    : [];

  let final: RunFolder['final'];
  const finalOof = readOof(path.join(dir, `final${sfx}.oof.csv`));
  const finalTest = readTest(path.join(dir, `final${sfx}.test.csv`));
  if (finalOof || finalTest) final = { source: 'final', oof: finalOof, test: finalTest };
  else {
    const best = models.reduce<ModelRun | null>((a, b) => (!a || beats(mainMetric, b.scores[mainMetric] ?? NaN, a.scores[mainMetric] ?? NaN) ? b : a), null);
    final = { source: best?.id ?? 'none', oof: best?.oof ?? null, test: best?.test ?? null };
  }

  return {
    dir,
    targets,
    target: view,
    name: path.basename(path.resolve(dir)),
    info,
    pipeline: info.config?.name ?? path.basename(path.dirname(path.resolve(dir))),
    task,
    mainMetric,
    models,
    finalScores: scoresOf(metrics.final),
    ensemble,
    validation,
    pseudoRounds,
    final,
  };
}
