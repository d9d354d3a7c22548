/**
 * @file ROC curves (out-of-fold) for binary tasks, one line per learner, with the chance diagonal.
 *
 * @example
 *   const svg = await renderSvg(rocSpec([{ name: 'final', label: [0, 1, 1], score: [0.2, 0.7, 0.4] }]));
 */
import type { VlSpec } from '../svg.ts';
import { rocPoints } from '../stats.ts';
import { auc } from '../../eval/metrics.ts';
import { round } from '../svg.ts';

export function rocSpec(curves: readonly { name: string; label: ArrayLike<number>; score: ArrayLike<number> }[], o: { title?: string } = {}): VlSpec {
  const values = curves.flatMap((c) => {
    const keep: number[] = [];
    for (let i = 0; i < c.label.length; i++) if (Number.isFinite(c.label[i]) && Number.isFinite(c.score[i])) keep.push(i);
    const a = keep.length ? round(auc(keep.map((i) => c.label[i]), keep.map((i) => c.score[i])), 3) : NaN;
    return rocPoints(c.label, c.score).map((p, k) => ({ curve: `${c.name} (AUC ${a})`, k, ...p }));
  });
  return {
    title: o.title ?? 'ROC curve (out-of-fold)',
    width: 300,
    height: 300,
    layer: [
      { data: { values: [{ v: 0 }, { v: 1 }] }, mark: { type: 'line', color: '#999', strokeDash: [4, 4] }, encoding: { x: { field: 'v', type: 'quantitative' }, y: { field: 'v', type: 'quantitative' } } },
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } },
          y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } },
          color: { field: 'curve', type: 'nominal', title: null, legend: { orient: 'bottom-right' } },
          order: { field: 'k', type: 'quantitative' },
        },
      },
    ],
  };
}
