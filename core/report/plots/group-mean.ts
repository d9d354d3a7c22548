/**
 * @file Mean label per group (category, hour, user-activity bucket) as bars, with the number of
 * posts in each group written at the bar end and the overall mean as a dashed rule.
 *
 * @example
 *   const svg = await renderSvg(groupMeanSpec([{ group: 'Food', mean: 6.1, count: 120 }], { title: 'by category' }));
 */
import type { VlSpec } from '../svg.ts';
import { round } from '../svg.ts';

export interface GroupMean {
  group: string;
  mean: number;
  count: number;
}

export function groupMeanSpec(rows: readonly GroupMean[], o: { title: string; groupTitle?: string; overall?: number; horizontal?: boolean }): VlSpec {
  const values = rows.map((r, i) => ({ group: r.group, mean: round(r.mean), count: r.count, order: i }));
  const g = { field: 'group', type: 'nominal' as const, sort: null, title: o.groupTitle ?? null, axis: { labelLimit: 200, ...(o.horizontal ? {} : { labelAngle: 0 }) } };
  const v = { field: 'mean', type: 'quantitative' as const, title: 'mean popularity' };
  const enc = o.horizontal ? { y: g, x: v } : { x: g, y: v };
  const layers: VlSpec[] = [
    { mark: { type: 'bar', color: '#4c78a8' }, encoding: { ...enc, tooltip: [{ field: 'group' }, { field: 'count' }] } } as VlSpec,
    {
      mark: o.horizontal ? { type: 'text', align: 'left', dx: 3, fontSize: 9 } : { type: 'text', baseline: 'bottom', dy: -2, fontSize: 8, angle: 0 },
      encoding: { ...enc, text: { field: 'count', type: 'quantitative', format: '~s' } },
    } as VlSpec,
  ];
  if (o.overall !== undefined && Number.isFinite(o.overall))
    layers.push({
      data: { values: [{ overall: round(o.overall) }] },
      mark: { type: 'rule', color: '#d62728', strokeDash: [4, 4] },
      encoding: o.horizontal ? { x: { field: 'overall', type: 'quantitative' } } : { y: { field: 'overall', type: 'quantitative' } },
    } as VlSpec);
  return {
    title: o.title,
    ...(o.horizontal ? { width: 360, height: { step: 16 } } : { width: { step: Math.max(14, Math.min(40, Math.floor(520 / Math.max(1, values.length)))) }, height: 220 }),
    data: { values },
    layer: layers,
  } as VlSpec;
}
