/**
 * @file Correlation of each numeric column with the label (Spearman, the image-track metric, and
 * Pearson), as horizontal bars sorted by |Spearman|.
 *
 * @example
 *   const svg = await renderSvg(labelCorrelationSpec([{ column: 'photo_count', spearman: 0.3, pearson: 0.1, n: 900 }]));
 */
import type { VlSpec } from '../svg.ts';
import { round } from '../svg.ts';

export function labelCorrelationSpec(rows: readonly { column: string; spearman: number; pearson: number; n: number }[], o: { title?: string } = {}): VlSpec {
  const sorted = [...rows].sort((a, b) => Math.abs(b.spearman) - Math.abs(a.spearman) || (a.column < b.column ? -1 : 1));
  const values = sorted.flatMap((r, i) => [
    { column: r.column, kind: 'Spearman', r: round(r.spearman, 3), order: i, n: r.n },
    { column: r.column, kind: 'Pearson', r: round(r.pearson, 3), order: i, n: r.n },
  ]);
  return {
    title: o.title ?? 'Correlation with the label (train)',
    width: 360,
    height: { step: 10 },
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'column', type: 'nominal', sort: { field: 'order', order: 'ascending' }, title: null, axis: { labelLimit: 200 } },
      yOffset: { field: 'kind', type: 'nominal' },
      x: { field: 'r', type: 'quantitative', scale: { domain: [-1, 1] }, title: 'correlation with label' },
      color: { field: 'kind', type: 'nominal', title: null, scale: { range: ['#4c78a8', '#f58518'], domain: ['Spearman', 'Pearson'] } },
      tooltip: [{ field: 'column' }, { field: 'kind' }, { field: 'r' }, { field: 'n' }],
    },
  };
}
