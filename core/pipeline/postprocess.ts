/**
 * @file Post-processing of the final prediction: affine calibration, a post-date trend
 * correction (residual trend over time extended to the newer test posts), a multiplicative scale
 * (fixed, or searched for the main metric: MAPE rewards a slight over-prediction), and clipping to
 * the training label range.
 *
 * Every choice is fitted on out-of-fold rows, nested so the CV stays out of sample: the rows of
 * fold f get the post-processing fitted on the OTHER folds' OOF rows, the test predictions the one
 * fitted on all OOF rows. A row never chooses its own calibration or scale.
 *
 * @example
 *   const post = nestedPostprocess(cfg, ens.final, y, postdate, evalFolds, 'mape');
 *   post.oof; post.test; post.fitted.scale;
 */
import { METRICS, type MetricName } from '../eval/metrics.ts';
import type { Folds } from '../eval/folds.ts';
import type { z } from 'zod';
import type { postprocessSchema } from './schema.ts';

export type PostprocessConfig = z.output<typeof postprocessSchema>;

export interface Postprocessor {
  apply(p: ArrayLike<number>, postdate: ArrayLike<number>): Float64Array;
  /** What was fitted: calibrate_a/b, date_trend_per_day, scale (only the enabled ones but scale). */
  fitted: Record<string, number>;
}

/** Rank metrics: a positive factor never changes them, so `scale: auto` does not search. */
const SCALE_FREE: ReadonlySet<MetricName> = new Set(['src', 'auc']);

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
export function fitPostprocess(cfg: PostprocessConfig, oof: ArrayLike<number>, y: ArrayLike<number>, postdate: ArrayLike<number>, metric: MetricName): Postprocessor {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < y.length; i++) {
    lo = Math.min(lo, y[i]);
    hi = Math.max(hi, y[i]);
  }
  const fitted: Record<string, number> = {};
  let cal = { a: 0, b: 1 };
  if (cfg.calibrate) {
    cal = linearFit(oof, y);
    fitted.calibrate_a = cal.a;
    fitted.calibrate_b = cal.b;
  }
  // Date trend: residual ~ c + d * days, fitted on rows with a date; applied beyond the fitted rows' dates only.
  let trend = { a: 0, b: 0 };
  let lastFitted = -Infinity;
  if (cfg.date_trend) {
    const rows = Array.from({ length: oof.length }, (_, i) => i).filter((i) => Number.isFinite(postdate[i]) && postdate[i] > 0);
    for (const i of rows) lastFitted = Math.max(lastFitted, postdate[i]);
    trend = linearFit(rows.map((i) => postdate[i] / 86400), rows.map((i) => y[i] - (cal.a + cal.b * oof[i])));
    fitted.date_trend_per_day = trend.b;
  }
  const base = (p: ArrayLike<number>, dates: ArrayLike<number>) =>
    Float64Array.from({ length: p.length }, (_, i) => {
      let v = cal.a + cal.b * p[i];
      const d = dates[i];
      if (cfg.date_trend && Number.isFinite(d) && d > lastFitted) v += trend.b * ((d - lastFitted) / 86400);
      return v;
    });
  const clip = (v: number) => (cfg.clip ? Math.min(hi, Math.max(lo, v)) : v);
  let scale = typeof cfg.scale === 'number' ? cfg.scale : 1;
  if (cfg.scale === 'auto' && !SCALE_FREE.has(metric)) {
    const { fn, higherIsBetter } = METRICS[metric];
    const b = base(oof, postdate);
    let best = fn(y, b.map((x) => clip(x)));
    const [s0, s1] = cfg.scale_range;
    // Integer steps: no drift from adding 0.0025 repeatedly.
    for (let i = 0, s = s0; s <= s1 + 1e-9; s = s0 + ++i * 0.0025) {
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

export interface NestedPostprocess {
  /** Post-processed OOF (one per train row, NaN where never validated): fold f by the fit without fold f. */
  oof: Float64Array;
  /** Post-processed test predictions, by the fit on all OOF rows. */
  test: Float64Array;
  /** The fit on all OOF rows (what the test predictions got). */
  fitted: Record<string, number>;
  /** Per evaluation fold: the fit on the other folds' OOF rows. */
  folds: Record<string, number>[];
}

/**
 * Nested post-processing of a prediction source. `folds` are the evaluation folds (at least 2;
 * the run's folds, or inner folds over a single holdout); `postdate` covers train then test rows.
 */
export function nestedPostprocess(
  cfg: PostprocessConfig,
  source: { oof: Float64Array; test: Float64Array },
  y: Float64Array,
  postdate: Float64Array,
  folds: Folds,
  metric: MetricName,
): NestedPostprocess {
  const nTrain = source.oof.length;
  const fitOn = (rows: number[]) =>
    fitPostprocess(
      cfg,
      Float64Array.from(rows, (r) => source.oof[r]),
      Float64Array.from(rows, (r) => y[r]),
      Float64Array.from(rows, (r) => postdate[r]),
      metric,
    );
  const validated = Array.from({ length: nTrain }, (_, r) => r).filter((r) => folds.fold[r] >= 0);
  const oof = new Float64Array(nTrain).fill(NaN);
  const perFold: Record<string, number>[] = [];
  for (let f = 0; f < folds.k; f++) {
    const pp = fitOn(validated.filter((r) => folds.fold[r] !== f));
    const rows = validated.filter((r) => folds.fold[r] === f);
    const out = pp.apply(
      Float64Array.from(rows, (r) => source.oof[r]),
      Float64Array.from(rows, (r) => postdate[r]),
    );
    rows.forEach((r, i) => (oof[r] = out[i]));
    perFold.push(pp.fitted);
  }
  const all = fitOn(validated);
  const test = all.apply(source.test, postdate.subarray(nTrain, nTrain + source.test.length));
  return { oof, test, fitted: all.fitted, folds: perFold };
}

/** One terminal line: what the test predictions got (the CV rows got the same, fitted without their fold). */
export function describePostprocess(cfg: PostprocessConfig, fitted: Record<string, number>): string {
  const parts = [`scale ${fitted.scale}${cfg.scale === 'auto' ? ' (auto)' : ''}`];
  if (cfg.calibrate) parts.push(`calibration ${fitted.calibrate_a.toPrecision(4)} + ${fitted.calibrate_b.toPrecision(4)} x p`);
  if (cfg.date_trend) parts.push(`date trend ${fitted.date_trend_per_day.toPrecision(4)} per day past the last train date`);
  parts.push(cfg.clip ? 'clipped to the train label range' : 'not clipped');
  return `test predictions: ${parts.join(', ')}; fitted on all OOF rows (CV rows: fitted on the other folds)`;
}
