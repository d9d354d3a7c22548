/**
 * @file Pseudo-labels for the next refinement round: test rows labelled by the ensemble. Fold f
 * gets the labels of its own fold-f ensemble (trained without fold f's validation rows). When
 * `fraction` < 1, only the test rows the fold models agree on most (lowest spread) are used.
 *
 * Which round to keep: a later round replaces round 0 only when it beats it by more than fold
 * noise: its paired per-fold gains over round 0 (same folds, the main metric, signed so that
 * positive is better) have a mean greater than their standard error.
 */
import { METRICS, type MetricName } from '../eval/metrics.ts';
import { better } from '../eval/score.ts';
import type { Folds } from '../eval/folds.ts';
import type { Level } from './ensemble-stage.ts';

export function pseudoLabels(
  level: Level,
  cfg: { rounds: number; fraction: number; weight: number },
): { rows: Int32Array; labels: Float64Array[]; weight: number } | undefined {
  if (cfg.rounds === 0) return undefined;
  const n = level.test.length;
  const k = level.testFolds.length;
  const spread = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const t of level.testFolds) s += (t[i] - level.test[i]) ** 2;
    spread[i] = k > 1 ? Math.sqrt(s / (k - 1)) : 0;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => spread[a] - spread[b] || a - b);
  const rows = Int32Array.from(order.slice(0, Math.max(1, Math.round(n * cfg.fraction)))).sort();
  return { rows, labels: level.testFolds.map((t) => Float64Array.from(rows, (r) => t[r])), weight: cfg.weight };
}

export interface RoundComparison {
  round: number;
  /** The main metric of each evaluation fold. */
  folds: number[];
  /** Paired gains over round 0 (positive = better): mean and its standard error; absent for round 0. */
  gain?: { mean: number; se: number };
  /** The main metric pooled over every validated row (what the run reports as its CV). */
  pooled: number;
  kept: boolean;
  /** Why the round was or was not kept (for the log); absent for round 0. */
  verdict?: string;
}

/**
 * Chooses among the rounds' OOF predictions (index = round; NaN for never-validated rows) on the
 * evaluation folds (at least 2). A round qualifies when mean gain > standard error and its pooled
 * score (the reported CV) beats round 0's: per-fold scores miss between-fold offsets, which
 * pooled SRC counts. The qualifying round with the largest mean gain is kept, else round 0.
 */
export function chooseRound(oofs: readonly Float64Array[], y: ArrayLike<number>, folds: Folds, metric: MetricName): { chosen: number; rounds: RoundComparison[] } {
  const { fn, higherIsBetter } = METRICS[metric];
  const byFold: number[][] = Array.from({ length: folds.k }, () => []);
  folds.fold.forEach((f, r) => f >= 0 && byFold[f].push(r));
  const yFold = byFold.map((rows) => Float64Array.from(rows, (r) => y[r]));
  const perFold = oofs.map((oof) => byFold.map((rows, f) => fn(yFold[f], Float64Array.from(rows, (r) => oof[r]))));
  const all = byFold.flat();
  const yAll = Float64Array.from(all, (r) => y[r]);
  const pooled = oofs.map((oof) => fn(yAll, Float64Array.from(all, (r) => oof[r])));
  const k = folds.k;
  let chosen = 0;
  let bestGain = 0;
  const rounds: RoundComparison[] = perFold.map((scores, round) => {
    if (round === 0) return { round, folds: scores, pooled: pooled[0], kept: false };
    const gains = scores.map((s, f) => (higherIsBetter ? s - perFold[0][f] : perFold[0][f] - s));
    const mean = gains.reduce((a, b) => a + b, 0) / k;
    const sd = Math.sqrt(gains.reduce((a, g) => a + (g - mean) ** 2, 0) / (k - 1));
    const se = sd / Math.sqrt(k);
    const pooledBetter = better(metric, pooled[round], pooled[0]);
    if (mean > se && pooledBetter && mean > bestGain) [chosen, bestGain] = [round, mean];
    const verdict = mean <= se ? 'not kept: mean gain <= standard error' : !pooledBetter ? `not kept: pooled CV ${pooled[round].toPrecision(4)} is not better than round 0's ${pooled[0].toPrecision(4)}` : 'passes, but another round gains more';
    return { round, folds: scores, gain: { mean, se }, pooled: pooled[round], kept: false, verdict };
  });
  rounds[chosen].kept = true;
  if (chosen > 0) rounds[chosen].verdict = 'kept';
  return { chosen, rounds };
}
