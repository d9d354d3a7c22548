/**
 * @file Confusion matrix (out-of-fold) for binary tasks: counts of actual x predicted class,
 * predictions thresholded at 0.5 (the accuracy threshold of core/eval/metrics.ts).
 *
 * @example
 *   const svg = await renderSvg(confusionSpec({ label: [0, 1, 1], prob: [0.2, 0.7, 0.4] }));
 */
import type { VlSpec } from '../svg.ts';
import { confusion } from '../stats.ts';

export function confusionSpec(o: { label: ArrayLike<number>; prob: ArrayLike<number>; threshold?: number; title?: string }): VlSpec {
  const t = o.threshold ?? 0.5;
  const values = confusion(o.label, o.prob, t);
  return {
    title: o.title ?? `Confusion matrix (out-of-fold, threshold ${t})`,
    width: { step: 80 },
    height: { step: 80 },
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', title: 'predicted', axis: { labelAngle: 0 } },
      y: { field: 'actual', type: 'ordinal', title: 'actual' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' }, legend: null } } },
      { mark: { type: 'text', fontSize: 14 }, encoding: { text: { field: 'count', type: 'quantitative' }, color: { value: 'black' } } },
    ],
  };
}
