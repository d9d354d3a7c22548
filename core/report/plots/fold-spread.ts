/**
 * @file Fold score spread: the main metric of every fold per learner (dots) and its mean (tick),
 * so an unstable learner or an unlucky fold stands out.
 *
 * @example
 *   const svg = await renderSvg(foldSpreadSpec([{ model: 'ridge', folds: [0.61, 0.63, 0.6] }], 'src'));
 */
import type { VlSpec } from '../svg.ts';
import { round } from '../svg.ts';

export function foldSpreadSpec(models: readonly { model: string; folds: readonly number[] }[], metric: string, o: { title?: string } = {}): VlSpec {
  const points = models.flatMap((m) => m.folds.map((v, i) => ({ model: m.model, fold: i, value: round(v) })).filter((p) => Number.isFinite(p.value)));
  const means = models.map((m) => {
    const f = m.folds.filter(Number.isFinite);
    return { model: m.model, value: round(f.reduce((s, x) => s + x, 0) / Math.max(1, f.length)) };
  }).filter((m) => Number.isFinite(m.value) && points.some((p) => p.model === m.model));
  const y = { field: 'value', type: 'quantitative' as const, title: metric.toUpperCase(), scale: { zero: false }, axis: { format: '.4~f' } };
  const x = { field: 'model', type: 'nominal' as const, title: null, sort: models.map((m) => m.model), axis: { labelAngle: 0 } };
  return {
    title: o.title ?? `Fold spread of ${metric.toUpperCase()} per learner`,
    width: Math.max(120, 90 * models.length),
    height: 240,
    layer: [
      { data: { values: means }, mark: { type: 'tick', color: '#d62728', thickness: 2, size: 30 }, encoding: { x, y } },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 40, opacity: 0.8 },
        encoding: { x, y, xOffset: { field: 'fold', type: 'nominal' }, color: { field: 'fold', type: 'nominal', title: 'fold' } },
      },
    ],
  };
}
