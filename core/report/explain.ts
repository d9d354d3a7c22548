/**
 * @file What a run's numbers mean, shared by the terminal summary (summary.ts) and report.html:
 * the metric legend (from the metric table in core/eval/metrics.ts), the baseline row (a
 * constant fitted on each fold's training rows), mean and standard deviation over folds, and
 * importance as shares (sum 1 per learner) summed per feature block.
 *
 * @example
 *   const base = baselineScores(run.task, run.final.oof!, ['src', 'mae']); // { scores: { src: NaN, mae: 1.2 }, folds: [...] }
 *   const blocks = blockShares(run.models[0].importance); // [{ block: 'meta', share: 0.7 }, ...]
 */
import { METRICS, type BaselineConstant } from '../eval/metrics.ts';
import { quantileSorted } from '../eval/quantile.ts';
import { isMetricName, type OofRows, type RunFolder, type ScoreMap } from './run-folder.ts';

/** Every metric a run scored, the main one first. */
export function runMetrics(run: RunFolder): string[] {
  const seen = new Set<string>([run.mainMetric]);
  for (const m of run.models) for (const k of Object.keys(m.scores)) seen.add(k);
  for (const k of Object.keys(run.finalScores)) seen.add(k);
  return [...seen];
}

/** "higher is better" / "lower is better"; null for a metric the table does not know. */
export function direction(m: string): string | null {
  return isMetricName(m) ? (METRICS[m].higherIsBetter ? 'higher is better' : 'lower is better') : null;
}

/** Column header: the metric with an arrow for its direction (SRC ↑, MAE ↓). */
export function metricHeader(m: string): string {
  return `${m.toUpperCase()}${isMetricName(m) ? (METRICS[m].higherIsBetter ? ' ↑' : ' ↓') : ''}`;
}

export interface LegendEntry {
  metric: string;
  text: string;
}

/** One entry per metric (what it is, which way is better), then what the extra rows mean. */
export function legend(metrics: readonly string[], main: string, o: { folds?: boolean; baseline?: boolean } = {}): LegendEntry[] {
  const out: LegendEntry[] = metrics.map((m) => ({
    metric: m.toUpperCase(),
    text: isMetricName(m) ? `${METRICS[m].legend}; ${direction(m)}${m === main ? '. Main metric' : ''}` : 'not in the metric table',
  }));
  if (o.folds) out.push({ metric: 'mean ± std', text: 'over the folds\' validation scores (sample standard deviation): how much the CV number moves with the split' });
  if (o.baseline) {
    const uses = (c: string) => metrics.filter((m) => isMetricName(m) && METRICS[m].baseline === c).map((m) => m.toUpperCase());
    const parts = [
      uses('median').length ? `the training-label median for ${uses('median').join(', ')}` : '',
      uses('weighted-median').length ? `the median weighted by 1/|label| (the best constant for percentage errors) for ${uses('weighted-median').join(', ')}` : '',
      uses('mean').length ? `the mean for ${uses('mean').join(', ')}` : '',
      uses('prevalence').length ? `the positive-class share (the majority class at 0.5) for ${uses('prevalence').join(', ')}` : '',
      uses('chance').length ? `${uses('chance').join(', ')} of any constant is chance level` : '',
    ].filter(Boolean);
    const undef = metrics.filter((m) => isMetricName(m) && METRICS[m].baseline === null).map((m) => m.toUpperCase());
    out.push({
      metric: 'baseline',
      text: `a constant prediction fitted on each fold's training rows: ${parts.join('; ') || 'none'}${undef.length ? `; ${undef.join(', ')} of a constant is undefined (—)` : ''}. A learner that does not beat it has learned nothing`,
    });
  }
  return out;
}

export interface Spread {
  mean: number;
  /** Sample standard deviation (n - 1); NaN with fewer than two folds. */
  std: number;
  n: number;
}

/** Mean and standard deviation of one metric over the folds' scores (folds without it skipped). */
export function foldSpread(folds: readonly ScoreMap[], metric: string): Spread {
  const v = folds.map((f) => f[metric]).filter((x): x is number => Number.isFinite(x));
  const n = v.length;
  const mean = n ? v.reduce((s, x) => s + x, 0) / n : NaN;
  const std = n > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : NaN;
  return { mean, std, n };
}

/** The smallest label where the cumulative 1/|label| weight reaches half the total (labels 0 skipped, as MAPE skips them). */
function weightedMedianSorted(sorted: Float64Array): number {
  let total = 0;
  for (const v of sorted) if (v !== 0) total += 1 / Math.abs(v);
  let acc = 0;
  for (const v of sorted) {
    if (v === 0) continue;
    acc += 1 / Math.abs(v);
    if (acc >= total / 2) return v;
  }
  return NaN;
}

function constantOf(kind: Exclude<BaselineConstant, null>, sorted: Float64Array): number {
  if (kind === 'chance') return 0; // any constant: one for every fold, so pooled rows tie too
  if (kind === 'median') return quantileSorted(sorted, 0.5);
  if (kind === 'weighted-median') return weightedMedianSorted(sorted);
  let s = 0;
  for (const v of sorted) s += kind === 'prevalence' ? (v > 0.5 ? 1 : 0) : v;
  return s / sorted.length;
}

/**
 * Baseline scores: for each fold, the metric's constant fitted on the rows outside that fold
 * (every train row that is not in it, as a learner of that fold trains), scored on the fold's
 * rows; `scores` pools the folds' constant predictions over all validated rows, as the OOF
 * rows of a learner. NaN where the metric's baseline is undefined.
 */
/** The ascending `all` less the ascending `drop` (a sub-multiset of it): one merge pass, no sort. */
function withoutSorted(all: Float64Array, drop: Float64Array): Float64Array {
  const out = new Float64Array(all.length - drop.length);
  let j = 0;
  let k = 0;
  for (const v of all) {
    if (j < drop.length && drop[j] === v) j++;
    else out[k++] = v;
  }
  return out;
}

export function baselineScores(oof: OofRows, metrics: readonly string[]): { scores: ScoreMap; folds: ScoreMap[] } {
  const n = oof.label.length;
  const ids = [...new Set(oof.fold)].filter((f) => f >= 0).sort((a, b) => a - b);
  // per fold: its labels, and the sorted labels of every other row (what its learner trains on)
  const foldY = ids.map((f) => oof.label.filter((y, r) => oof.fold[r] === f && Number.isFinite(y)));
  const all = oof.label.filter(Number.isFinite).sort();
  const trainSorted = foldY.map((y) => withoutSorted(all, Float64Array.from(y).sort()));
  const pooledY = new Float64Array(foldY.reduce((s, y) => s + y.length, 0));
  foldY.reduce((at, y) => (pooledY.set(y, at), at + y.length), 0);
  const scores: ScoreMap = {};
  const folds: ScoreMap[] = ids.map(() => ({}));
  for (const m of metrics) {
    const def = isMetricName(m) ? METRICS[m] : null;
    if (!def || def.baseline === null || !pooledY.length || !n) {
      scores[m] = NaN;
      folds.forEach((f) => (f[m] = NaN));
      continue;
    }
    const pooled = new Float64Array(pooledY.length);
    let at = 0;
    ids.forEach((_, k) => {
      const c = constantOf(def.baseline!, trainSorted[k]);
      folds[k][m] = foldY[k].length ? def.fn(foldY[k], new Float64Array(foldY[k].length).fill(c)) : NaN;
      pooled.fill(c, at, at + foldY[k].length);
      at += foldY[k].length;
    });
    scores[m] = def.fn(pooledY, pooled);
  }
  return { scores, folds };
}

export interface Share {
  name: string;
  share: number;
}

/** Importances as shares of the learner's total (sum 1), largest first; empty when the total is 0. */
export function importanceShares(rows: readonly { feature: string; importance: number }[]): Share[] {
  const total = rows.reduce((s, r) => s + (Number.isFinite(r.importance) ? Math.abs(r.importance) : 0), 0);
  if (!(total > 0)) return [];
  return rows
    .filter((r) => Number.isFinite(r.importance))
    .map((r) => ({ name: r.feature, share: Math.abs(r.importance) / total }))
    .sort((a, b) => b.share - a.share || (a.name < b.name ? -1 : 1));
}

/** The block id of a column name `<block id>.<column>` (block ids hold no dot). */
export function blockOf(feature: string): string {
  const dot = feature.indexOf('.');
  return dot > 0 ? feature.slice(0, dot) : feature;
}

/** Importance shares summed per feature block (sum 1), largest first. */
export function blockShares(rows: readonly { feature: string; importance: number }[]): Share[] {
  const by = new Map<string, number>();
  for (const s of importanceShares(rows)) by.set(blockOf(s.name), (by.get(blockOf(s.name)) ?? 0) + s.share);
  return [...by].map(([name, share]) => ({ name, share })).sort((a, b) => b.share - a.share || (a.name < b.name ? -1 : 1));
}

/**
 * Post-processing as "name value" pairs from metrics.json (`ensemble.postprocess`), nested
 * objects flattened with dots; empty when none was applied.
 */
export function postprocessItems(pp: unknown, prefix = ''): [string, unknown][] {
  if (!pp || typeof pp !== 'object') return [];
  return Object.entries(pp as Record<string, unknown>).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) ? postprocessItems(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v] as [string, unknown]],
  );
}

export interface CvRow {
  learner: string;
  /** 'fold 3', 'mean ± std', 'all (OOF)'. */
  rows: string;
  kind: 'fold' | 'spread' | 'oof' | 'baseline' | 'final';
  /** One cell per metric: a score, or "mean ± std" text. */
  values: (number | string)[];
}

const spreadCell = (s: Spread) => (!Number.isFinite(s.mean) ? NaN : s.n > 1 ? `${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}` : s.mean);

/**
 * The CV table of a run: per learner its folds (with `folds: true`), mean ± std over folds
 * (when it has two or more) and its OOF scores; then the baseline and the final predictions.
 */
export function cvRows(run: RunFolder, metrics: readonly string[], o: { folds?: boolean } = {}): CvRow[] {
  const rows: CvRow[] = [];
  for (const m of run.models) {
    if (o.folds) m.folds.forEach((f, k) => rows.push({ learner: m.id, rows: `fold ${k}`, kind: 'fold', values: metrics.map((x) => f[x] ?? NaN) }));
    if (m.folds.length > 1) rows.push({ learner: m.id, rows: 'mean ± std', kind: 'spread', values: metrics.map((x) => spreadCell(foldSpread(m.folds, x))) });
    rows.push({ learner: m.id, rows: 'all (OOF)', kind: 'oof', values: metrics.map((x) => m.scores[x] ?? NaN) });
  }
  const oof = run.final.oof;
  if (oof) {
    const base = baselineScores(oof, metrics);
    if (base.folds.length > 1) rows.push({ learner: 'baseline', rows: 'mean ± std', kind: 'spread', values: metrics.map((x) => spreadCell(foldSpread(base.folds, x))) });
    rows.push({ learner: 'baseline', rows: 'all (OOF)', kind: 'baseline', values: metrics.map((x) => base.scores[x]) });
  }
  if (Object.keys(run.finalScores).length) rows.push({ learner: 'final', rows: 'all (OOF)', kind: 'final', values: metrics.map((x) => run.finalScores[x] ?? NaN) });
  return rows;
}

/** "kfold, 5 folds" / "time" from run.json's config. */
export function validationText(run: RunFolder): string {
  const v = run.info.config?.validation as { scheme?: string; folds?: number; early_stopping?: string } | undefined;
  if (!v) return 'validation not recorded';
  return `${v.scheme ?? '?'}${v.scheme !== 'time' && v.scheme !== 'holdout' && v.folds ? `, ${v.folds} folds` : ''}${v.early_stopping ? `, early stopping on ${v.early_stopping === 'inner' ? 'an inner split of each fold\'s training rows' : 'each fold\'s validation rows'}` : ''}`;
}
