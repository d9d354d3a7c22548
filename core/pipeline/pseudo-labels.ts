/**
 * @file Pseudo-labels for the next refinement round: test rows labelled by the ensemble. Fold f
 * gets the labels of its own fold-f ensemble (trained without fold f's validation rows). When
 * `fraction` < 1, only the test rows the fold models agree on most (lowest spread) are used.
 */
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
