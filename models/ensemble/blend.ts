/**
 * @file Metric-driven blending: greedy forward selection with replacement (Caruana et al.
 * 2004) over out-of-fold predictions, which optimises any metric (SRC, MAE, MAPE) without
 * gradients. The result is a weight per model summing to 1.
 *
 * @example
 *   const weights = blendWeights(oofColumns, y, 'mape', 100);
 */
import { METRICS, type MetricName } from '../../core/eval/metrics.ts';

export function blendWeights(columns: readonly ArrayLike<number>[], y: ArrayLike<number>, metric: MetricName, steps = 100): number[] {
  const { fn, higherIsBetter } = METRICS[metric];
  const k = columns.length;
  const n = y.length;
  const counts = new Array<number>(k).fill(0);
  const sum = new Float64Array(n);
  const trial = new Float64Array(n);
  let chosen = 0;
  let bestSoFar = higherIsBetter ? -Infinity : Infinity;
  for (let s = 0; s < steps; s++) {
    let bestJ = -1;
    let bestScore = higherIsBetter ? -Infinity : Infinity;
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < n; i++) trial[i] = (sum[i] + columns[j][i]) / (chosen + 1);
      const v = fn(y, trial);
      if (higherIsBetter ? v > bestScore : v < bestScore) [bestScore, bestJ] = [v, j];
    }
    // Stop when no addition improves the blend (after at least one pick).
    if (chosen > 0 && !(higherIsBetter ? bestScore > bestSoFar + 1e-12 : bestScore < bestSoFar - 1e-12)) break;
    bestSoFar = bestScore;
    counts[bestJ]++;
    chosen++;
    for (let i = 0; i < n; i++) sum[i] += columns[bestJ][i];
  }
  return counts.map((c) => c / chosen);
}
