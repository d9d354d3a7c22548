/**
 * @file Post-processing of the final prediction, every choice fitted on out-of-fold rows only:
 * affine calibration, a post-date trend correction (residual trend over time extended to the
 * newer test posts), a multiplicative scale (fixed, or searched for the main metric: MAPE
 * rewards a slight over-prediction), and clipping to the training label range.
 */
import { METRICS, type MetricName } from '../eval/metrics.ts';
import type { z } from 'zod';
import type { postprocessSchema } from './schema.ts';

export type PostprocessConfig = z.output<typeof postprocessSchema>;

export interface Postprocessor {
  apply(p: Float64Array, postdate: ArrayLike<number>): Float64Array;
  /** What was fitted, for metrics.json. */
  fitted: Record<string, number>;
}

function linearFit(x: ArrayLike<number>, y: ArrayLike<number>): { a: number; b: number } {
  let mx = 0;
  let my = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  const b = sxx > 0 ? sxy / sxx : 0;
  return { a: my - b * mx, b };
}

/** Fits on validated train rows: oof predictions, labels and post dates (unix seconds). */
export function fitPostprocess(cfg: PostprocessConfig, oof: Float64Array, y: Float64Array, postdate: ArrayLike<number>, metric: MetricName): Postprocessor {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of y) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const fitted: Record<string, number> = {};
  let cal = { a: 0, b: 1 };
  if (cfg.calibrate) {
    cal = linearFit(oof, y);
    fitted.calibrate_a = cal.a;
    fitted.calibrate_b = cal.b;
  }
  const calibrated = oof.map((p) => cal.a + cal.b * p);
  // Date trend: residual ~ c + d * days, fitted on rows with a date; applied beyond the train range only.
  let trend = { a: 0, b: 0 };
  let lastTrain = -Infinity;
  if (cfg.date_trend) {
    const rows = Array.from({ length: oof.length }, (_, i) => i).filter((i) => Number.isFinite(postdate[i]) && postdate[i] > 0);
    for (const i of rows) lastTrain = Math.max(lastTrain, postdate[i]);
    trend = linearFit(rows.map((i) => postdate[i] / 86400), rows.map((i) => y[i] - calibrated[i]));
    fitted.date_trend_per_day = trend.b;
  }
  const base = (p: Float64Array, dates: ArrayLike<number>) =>
    p.map((x, i) => {
      let v = cal.a + cal.b * x;
      const d = dates[i];
      if (cfg.date_trend && Number.isFinite(d) && d > lastTrain) v += trend.b * ((d - lastTrain) / 86400);
      return v;
    });
  const clip = (v: number) => (cfg.clip ? Math.min(hi, Math.max(lo, v)) : v);
  let scale = typeof cfg.scale === 'number' ? cfg.scale : 1;
  if (cfg.scale === 'auto') {
    const { fn, higherIsBetter } = METRICS[metric];
    const b = base(oof, postdate);
    // Start from no scaling: a rank metric (SRC, AUC) never moves it.
    let best = fn(y, b.map((x) => clip(x)));
    const [s0, s1] = cfg.scale_range;
    for (let s = s0; s <= s1 + 1e-9; s += 0.0025) {
      const v = fn(y, b.map((x) => clip(x * s)));
      if (higherIsBetter ? v > best + 1e-12 : v < best - 1e-12) [best, scale] = [v, s];
    }
    scale = Number(scale.toFixed(4));
  }
  fitted.scale = scale;
  return {
    fitted,
    apply: (p, dates) => base(p, dates).map((x) => clip(x * scale)),
  };
}
