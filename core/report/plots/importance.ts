/**
 * @file The top features of a learner by importance, as horizontal bars (largest on top).
 *
 * @example
 *   const svg = await renderSvg(importanceSpec([{ feature: 'time.hour', importance: 3.2 }], { top: 30 }));
 */
import type { VlSpec } from '../svg.ts';
import { round } from '../svg.ts';

export function importanceSpec(rows: readonly { feature: string; importance: number }[], o: { top?: number; title?: string; xTitle?: string } = {}): VlSpec {
  const top = [...rows]
    .filter((r) => Number.isFinite(r.importance))
    .sort((a, b) => b.importance - a.importance || (a.feature < b.feature ? -1 : 1))
    .slice(0, o.top ?? 30);
  const values = top.map((r, i) => ({ feature: r.feature, importance: round(r.importance), rank: i + 1 }));
  return {
    title: o.title ?? `Top ${values.length} features by importance`,
    width: 360,
    height: { step: 14 },
    data: { values },
    mark: { type: 'bar', color: '#4c78a8' },
    encoding: {
      y: { field: 'feature', type: 'nominal', sort: { field: 'rank', order: 'ascending' }, title: null, axis: { labelLimit: 220 } },
      x: { field: 'importance', type: 'quantitative', title: o.xTitle ?? 'importance' },
    },
  };
}
