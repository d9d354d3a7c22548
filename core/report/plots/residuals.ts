/**
 * @file Residuals (predicted - actual, out-of-fold) against actual on a symmetric-log x axis,
 * with the zero line and the mean residual per actual-value bin (shows shrinkage towards the mean).
 *
 * @example
 *   const svg = await renderSvg(residualsSpec({ label: [1, 2, 3], prediction: [1.2, 1.8, 3.3] }));
 */
import type { VlSpec } from '../svg.ts';
import { round } from '../svg.ts';
import { sampleIndices } from '../stats.ts';

export function residualsSpec(o: { label: ArrayLike<number>; prediction: ArrayLike<number>; title?: string; maxPoints?: number; bins?: number }): VlSpec {
  const rows: number[] = [];
  for (let i = 0; i < o.label.length; i++) if (Number.isFinite(o.label[i]) && Number.isFinite(o.prediction[i])) rows.push(i);
  const values = sampleIndices(rows.length, o.maxPoints ?? 2000).map((k) => ({
    actual: round(o.label[rows[k]]),
    residual: round(o.prediction[rows[k]] - o.label[rows[k]]),
  }));
  // Mean residual per equal-count bin of actual (all validated rows, not only the sample).
  const sorted = [...rows].sort((a, b) => o.label[a] - o.label[b]);
  const nb = Math.min(o.bins ?? 20, sorted.length);
  const trend: { actual: number; residual: number }[] = [];
  for (let b = 0; b < nb; b++) {
    const part = sorted.slice(Math.floor((b * sorted.length) / nb), Math.floor(((b + 1) * sorted.length) / nb));
    if (!part.length) continue;
    let sa = 0;
    let sr = 0;
    for (const r of part) {
      sa += o.label[r];
      sr += o.prediction[r] - o.label[r];
    }
    trend.push({ actual: round(sa / part.length), residual: round(sr / part.length) });
  }
  const x = { field: 'actual', type: 'quantitative' as const, scale: { type: 'symlog' as const, zero: false }, title: 'actual' };
  return {
    title: o.title ?? 'Residuals vs actual (out-of-fold)',
    width: 360,
    height: 300,
    layer: [
      { data: { values }, mark: { type: 'point', filled: true, size: 10, opacity: 0.35, color: '#1f77b4', aria: false }, encoding: { x, y: { field: 'residual', type: 'quantitative', title: 'residual' } } },
      { data: { values: [{ zero: 0 }] }, mark: { type: 'rule', color: '#999', strokeDash: [4, 4] }, encoding: { y: { field: 'zero', type: 'quantitative' } } },
      { data: { values: trend }, mark: { type: 'line', color: '#d62728', strokeWidth: 2, point: { color: '#d62728', size: 14 } }, encoding: { x, y: { field: 'residual', type: 'quantitative' } } },
    ],
  };
}
