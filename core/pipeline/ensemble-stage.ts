/**
 * @file The ensemble: level-1 out-of-fold predictions of the base learners are combined, tier
 * by tier, into one prediction. Every combination is itself cross-validated on the same folds
 * (fitted on the other folds' OOF rows, applied to the held-out fold), so the ensemble's CV is
 * honest; test predictions for fold f combine the base learners' fold-f test predictions, which
 * keeps fold-wise pseudo-labels free of the fold's validation labels.
 *
 * Combiners: best (the member with the best CV metric), mean, blend (greedy metric-driven
 * weights), stack (non-negative ridge `nnls`, or any learner kind on OOF plus raw columns).
 */
import { hconcat, takeRows, fromColumns, type Matrix } from '../matrix.ts';
import type { Random } from '../random.ts';
import type { RunLog } from '../report/run-log.ts';
import { foldRows, makeFolds, validatedRows, type Folds } from '../eval/folds.ts';
import { better, formatScores, score, type Scores } from '../eval/score.ts';
import { METRICS, type MetricName } from '../eval/metrics.ts';
import { models } from '../../models/index.ts';
import type { Task } from '../../models/model.ts';
import { nnls } from '../../models/ensemble/nnls.ts';
import { blendWeights } from '../../models/ensemble/blend.ts';
import type { EnsembleConfig } from './schema.ts';

/** A prediction source: a base learner or a combined group. */
export interface Level {
  id: string;
  /** One per train row; NaN where never validated. */
  oof: Float64Array;
  /** Test predictions of each fold's model (length = folds.k). */
  testFolds: Float64Array[];
  test: Float64Array;
  scores: Scores;
}

export interface EnsembleResult {
  final: Level;
  /** Group id -> member id -> weight (mean over folds; stackers report their coefficients). */
  weights: Record<string, Record<string, number>>;
  groups: { id: string; members: string[]; scores: Scores }[];
}

interface Combiner {
  predict(cols: Float64Array[], raw: Matrix | null): Float64Array;
  weights: number[];
}

function meanOf(arrays: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(arrays[0].length);
  for (const a of arrays) for (let i = 0; i < a.length; i++) out[i] += a[i] / arrays.length;
  return out;
}

async function fitCombiner(
  cfg: EnsembleConfig,
  cols: Float64Array[],
  y: Float64Array,
  raw: Matrix | null,
  ctx: { metric: MetricName; task: Task; seed: number; memberScores: number[] },
): Promise<Combiner> {
  const k = cols.length;
  switch (cfg.method) {
    case 'best': {
      let b = 0;
      for (let j = 1; j < k; j++) if (better(ctx.metric, ctx.memberScores[j], ctx.memberScores[b])) b = j;
      return { weights: cols.map((_, j) => (j === b ? 1 : 0)), predict: (c) => Float64Array.from(c[b]) };
    }
    case 'mean':
      return { weights: cols.map(() => 1 / k), predict: (c) => meanOf(c) };
    case 'blend': {
      const w = blendWeights(cols, y, ctx.metric, cfg.blend_steps);
      return { weights: w, predict: (c) => c[0].map((_, i) => c.reduce((s, col, j) => s + w[j] * col[i], 0)) };
    }
    case 'stack': {
      const s = cfg.stacker;
      if (s.kind === 'nnls') {
        const fit = nnls(cols, y, { alpha: s.alpha });
        return { weights: fit.weights, predict: (c) => c[0].map((_, i) => c.reduce((acc, col, j) => acc + fit.weights[j] * col[i], fit.intercept)) };
      }
      const def = models.get(s.kind);
      const params = def.params.parse(s.params ?? {});
      const X = (c: Float64Array[], r: Matrix | null) => {
        const m = fromColumns(c, c.map((_, j) => `level_${j}`));
        return r ? hconcat([m, r]) : m;
      };
      const fitted = await def.fit(X(cols, raw), y, params, { seed: ctx.seed, task: ctx.task });
      const imp = fitted.importance();
      return { weights: cols.map((_, j) => imp[`level_${j}`] ?? 0), predict: (c, r) => fitted.predict(X(c, r)) };
    }
  }
}

/** Cross-validated combination of members into one Level. */
async function combine(
  id: string,
  members: Level[],
  cfg: EnsembleConfig,
  ctx: { y: Float64Array; folds: Folds; metaFolds: Folds; raw: Matrix | null; nTrain: number; metric: MetricName; task: Task; rng: Random; log: RunLog },
): Promise<{ level: Level; weights: Record<string, number> }> {
  const { y, folds, metaFolds, raw } = ctx;
  const oof = new Float64Array(ctx.nTrain).fill(NaN);
  const testFolds: Float64Array[] = [];
  const weightSum = new Array<number>(members.length).fill(0);
  const testRows = raw ? Int32Array.from({ length: raw.rows - ctx.nTrain }, (_, i) => ctx.nTrain + i) : null;
  for (let f = 0; f < metaFolds.k; f++) {
    const { train, valid } = foldRows(metaFolds, f);
    const fitRows = train.filter((r) => folds.fold[r] >= 0);
    const pick = (rows: Int32Array) => members.map((m) => Float64Array.from(rows, (r) => m.oof[r]));
    const yFit = Float64Array.from(fitRows, (r) => y[r]);
    const fitCols = pick(fitRows);
    // Member scores on the fit rows matter only to `best`.
    const memberScores = cfg.method === 'best' ? fitCols.map((c) => METRICS[ctx.metric].fn(yFit, c)) : [];
    const comb = await fitCombiner(cfg, fitCols, yFit, raw ? takeRows(raw, fitRows) : null, {
      metric: ctx.metric,
      task: ctx.task,
      seed: ctx.rng.fork(`${id}:${f}`).seed,
      memberScores,
    });
    const pv = comb.predict(pick(valid), raw ? takeRows(raw, valid) : null);
    valid.forEach((r, i) => (oof[r] = pv[i]));
    // Fold-f test prediction from the members' fold-f test predictions (same fold mapping when
    // the meta folds are the run's folds; otherwise the members' averaged test predictions).
    const testIn = members.map((m) => (metaFolds === folds ? m.testFolds[f] : m.test));
    testFolds.push(comb.predict(testIn, raw && testRows ? takeRows(raw, testRows) : null));
    comb.weights.forEach((w, j) => (weightSum[j] += w / metaFolds.k));
  }
  const validated = validatedRows(folds);
  const scores = score(ctx.task, validated.map((r) => y[r]), validated.map((r) => oof[r]));
  const weights = Object.fromEntries(members.map((m, j) => [m.id, Number(weightSum[j].toFixed(6))]));
  ctx.log.info('ensemble', `${id} = ${cfg.method}(${members.map((m) => m.id).join(', ')}): ${formatScores(scores)}`, { group: id, weights, scores });
  return { level: { id, oof, testFolds, test: meanOf(testFolds), scores }, weights };
}

/**
 * The folds every combination, post-processing fit and round choice is cross-validated on: the
 * run's folds, or with a single time-ordered / random holdout, 5 inner folds over its validated
 * rows (built once per run, so every round is compared on the same folds).
 */
export function evaluationFolds(folds: Folds, rng: Random): Folds {
  if (folds.k >= 2) return folds;
  const validated = validatedRows(folds);
  const inner = makeFolds(validated.length, { scheme: 'kfold', folds: 5 }, rng);
  const fold = new Int32Array(folds.fold.length).fill(-1);
  validated.forEach((r, i) => (fold[r] = inner.fold[i]));
  return { k: 5, fold };
}

export async function ensemble(
  base: Level[],
  cfg: EnsembleConfig,
  ctx: { y: Float64Array; folds: Folds; metaFolds: Folds; raw: Matrix | null; nTrain: number; metric: MetricName; task: Task; rng: Random; log: RunLog },
): Promise<EnsembleResult> {
  const weights: EnsembleResult['weights'] = {};
  const groups: EnsembleResult['groups'] = [];
  let current = base;
  if (base.length === 1) return { final: base[0], weights: { final: { [base[0].id]: 1 } }, groups };
  for (const [li, level] of cfg.levels.entries()) {
    const next: Level[] = [];
    const used = new Set<string>();
    for (const [gid, memberIds] of Object.entries(level)) {
      const members = memberIds.map((mid) => {
        const m = current.find((c) => c.id === mid);
        if (!m) throw new Error(`ensemble.levels[${li}].${gid}: "${mid}" is not an output of the level below (${current.map((c) => c.id).join(', ')})`);
        used.add(mid);
        return m;
      });
      const { level: out, weights: w } = await combine(gid, members, cfg, ctx);
      weights[gid] = w;
      groups.push({ id: gid, members: memberIds, scores: out.scores });
      next.push(out);
    }
    // Members a level does not group pass through unchanged.
    current = [...next, ...current.filter((c) => !used.has(c.id))];
  }
  if (current.length === 1) return { final: current[0], weights, groups };
  const { level: final, weights: w } = await combine('final', current, cfg, ctx);
  weights.final = w;
  groups.push({ id: 'final', members: current.map((c) => c.id), scores: final.scores });
  return { final, weights, groups };
}
