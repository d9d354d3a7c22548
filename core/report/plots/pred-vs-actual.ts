/**
 * @file Predicted against actual (out-of-fold) on symmetric-log axes, with the y = x line.
 * Rows never validated (NaN prediction) are left out; at most `maxPoints` evenly spaced rows.
 *
 * @example
 *   const svg = await renderSvg(predVsActualSpec({ label: [1, 2, 3], prediction: [1.2, 1.8, 3.3] }));
 */
import type { VlSpec } from '../svg.ts';
import { round } from '../svg.ts';
import { sampleIndices } from '../stats.ts';

export function predVsActualSpec(o: { label: ArrayLike<number>; prediction: ArrayLike<number>; title?: string; maxPoints?: number }): VlSpec {
  const rows: number[] = [];
  for (let i = 0; i < o.label.length; i++) if (Number.isFinite(o.label[i]) && Number.isFinite(o.prediction[i])) rows.push(i);
  const values = sampleIndices(rows.length, o.maxPoints ?? 2000).map((k) => ({ actual: round(o.label[rows[k]]), predicted: round(o.prediction[rows[k]]) }));
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v.actual, v.predicted);
    hi = Math.max(hi, v.actual, v.predicted);
  }
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  const scale = { type: 'symlog' as const, domain: [lo, hi], nice: false, zero: false };
  return {
    title: o.title ?? 'Predicted vs actual (out-of-fold)',
    width: 360,
    height: 360,
    layer: [
      {
        data: { values: [{ v: lo }, { v: hi }] },
        mark: { type: 'line', color: '#999', strokeDash: [4, 4] },
        encoding: { x: { field: 'v', type: 'quantitative', scale }, y: { field: 'v', type: 'quantitative', scale } },
      },
      {
        data: { values },
        mark: { type: 'point', filled: true, size: 10, opacity: 0.35, color: '#1f77b4', aria: false },
        encoding: {
          x: { field: 'actual', type: 'quantitative', scale, title: 'actual' },
          y: { field: 'predicted', type: 'quantitative', scale, title: 'predicted' },
        },
      },
    ],
  };
}
