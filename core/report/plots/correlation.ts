/**
 * @file A correlation heatmap (Pearson r, -1 blue .. +1 red) with the value in each cell,
 * for the top features and the label.
 *
 * @example
 *   const svg = await renderSvg(correlationSpec([{ name: 'label', values: y }, { name: 'time.hour', values: h }]));
 */
import type { VlSpec } from '../svg.ts';
import { correlationMatrix } from '../stats.ts';

export function correlationSpec(columns: { name: string; values: ArrayLike<number> }[], o: { title?: string } = {}): VlSpec {
  const values = correlationMatrix(columns);
  const order = columns.map((c) => c.name);
  const cell = Math.max(22, Math.min(40, Math.floor(480 / Math.max(1, order.length))));
  return {
    title: o.title ?? 'Correlation of top features and the label',
    width: { step: cell },
    height: { step: cell },
    data: { values },
    encoding: {
      x: { field: 'b', type: 'nominal', sort: order, title: null, axis: { labelAngle: -45, labelLimit: 160 } },
      y: { field: 'a', type: 'nominal', sort: order, title: null, axis: { labelLimit: 160 } },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'r', type: 'quantitative', scale: { scheme: 'redblue', domain: [-1, 1], reverse: true }, title: 'r' } } },
      {
        mark: { type: 'text', fontSize: 8 },
        encoding: {
          text: { field: 'r', type: 'quantitative', format: '.2f' },
          color: { condition: { test: 'abs(datum.r) > 0.6', value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}
