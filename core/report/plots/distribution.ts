/**
 * @file Distributions of several series over shared bins, as share of each series (so a
 * 300k-row train set and a 180k-row test set compare): train labels against predicted test.
 *
 * @example
 *   const svg = await renderSvg(distributionSpec([{ name: 'train label', values: y }, { name: 'test predicted', values: p }]));
 */
import type { VlSpec } from '../svg.ts';
import { sharedHistogram } from '../stats.ts';

export function distributionSpec(series: { name: string; values: ArrayLike<number> }[], o: { title?: string; xTitle?: string; bins?: number } = {}): VlSpec {
  const values = sharedHistogram(series, o.bins ?? 40);
  return {
    title: o.title ?? 'Label distribution: train vs predicted test',
    width: 420,
    height: 240,
    data: { values },
    mark: { type: 'bar', opacity: 0.5, binSpacing: 0 },
    encoding: {
      x: { field: 'x0', type: 'quantitative', bin: { binned: true }, title: o.xTitle ?? 'popularity' },
      x2: { field: 'x1' },
      y: { field: 'share', type: 'quantitative', stack: null, title: 'share of posts' },
      color: { field: 'series', type: 'nominal', title: null, scale: { range: ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'] } },
      tooltip: [{ field: 'series' }, { field: 'count' }],
    },
  };
}
