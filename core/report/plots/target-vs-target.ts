/**
 * @file One target's predictions against another's (multi-target runs): OOF predictions of the
 * train rows and test predictions in two colours, linear axes. Shows how far the model keeps
 * the targets apart (the illustration study plots predicted views against predicted favourites).
 *
 * @example
 *   const svg = await renderSvg(targetVsTargetSpec({ x: 'log_views', y: 'log_favourites', series: [{ name: 'test', x: [1, 2], y: [0.5, 1.1] }] }));
 */
import type { VlSpec } from '../svg.ts';
import { round } from '../svg.ts';
import { sampleIndices } from '../stats.ts';

export function targetVsTargetSpec(o: { x: string; y: string; series: { name: string; x: ArrayLike<number>; y: ArrayLike<number> }[]; maxPoints?: number }): VlSpec {
  const values = o.series.flatMap((s) => {
    const rows: number[] = [];
    for (let i = 0; i < s.x.length; i++) if (Number.isFinite(s.x[i]) && Number.isFinite(s.y[i])) rows.push(i);
    return sampleIndices(rows.length, o.maxPoints ?? 2000).map((k) => ({ a: round(s.x[rows[k]]), b: round(s.y[rows[k]]), set: s.name }));
  });
  return {
    title: `Predicted ${o.x} vs predicted ${o.y}`,
    width: 360,
    height: 360,
    data: { values },
    mark: { type: 'point', filled: true, size: 10, opacity: 0.4, aria: false },
    encoding: {
      x: { field: 'a', type: 'quantitative', scale: { zero: false }, title: `predicted ${o.x}` },
      y: { field: 'b', type: 'quantitative', scale: { zero: false }, title: `predicted ${o.y}` },
      color: { field: 'set', type: 'nominal', title: null },
    },
  };
}
