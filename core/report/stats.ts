/**
 * @file Small numeric helpers for plots: deterministic subsampling, shared histogram bins,
 * ROC points, confusion counts, correlation matrices. All inputs skip non-finite values.
 */
import { pearson } from '../eval/metrics.ts';
import { round } from './svg.ts';

/** Up to `max` evenly spaced indices of 0..n-1 (deterministic, keeps the first and last). */
export function sampleIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  if (max <= 1) return n > 0 ? [0] : [];
  return Array.from({ length: max }, (_, i) => Math.round((i * (n - 1)) / (max - 1)));
}

export function finite(values: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) out.push(values[i]);
  return out;
}

export interface HistRow {
  series: string;
  x0: number;
  x1: number;
  share: number;
  count: number;
}

/** Histograms of several series over the same bins; `share` = count / series size. */
export function sharedHistogram(series: { name: string; values: ArrayLike<number> }[], bins = 40): HistRow[] {
  const clean = series.map((s) => ({ name: s.name, values: finite(s.values) }));
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of clean)
    for (const v of s.values) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  if (!Number.isFinite(lo)) return [];
  if (hi === lo) hi = lo + 1;
  const w = (hi - lo) / bins;
  const rows: HistRow[] = [];
  for (const s of clean) {
    const counts = new Array<number>(bins).fill(0);
    for (const v of s.values) counts[Math.min(bins - 1, Math.floor((v - lo) / w))]++;
    counts.forEach((c, b) =>
      rows.push({ series: s.name, x0: round(lo + b * w), x1: round(lo + (b + 1) * w), share: round(s.values.length ? c / s.values.length : 0), count: c }),
    );
  }
  return rows;
}

/** ROC points (fpr, tpr) from labels in {0, 1} and scores; at most `max` points kept. */
export function rocPoints(label: ArrayLike<number>, score: ArrayLike<number>, max = 200): { fpr: number; tpr: number }[] {
  const idx: number[] = [];
  for (let i = 0; i < label.length; i++) if (Number.isFinite(label[i]) && Number.isFinite(score[i])) idx.push(i);
  idx.sort((a, b) => score[b] - score[a]);
  const pos = idx.filter((i) => label[i] > 0.5).length;
  const neg = idx.length - pos;
  if (pos === 0 || neg === 0) return [{ fpr: 0, tpr: 0 }, { fpr: 1, tpr: 1 }];
  const pts: { fpr: number; tpr: number }[] = [{ fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < idx.length; k++) {
    if (label[idx[k]] > 0.5) tp++;
    else fp++;
    // one point per distinct score (ties move diagonally)
    if (k === idx.length - 1 || score[idx[k + 1]] !== score[idx[k]]) pts.push({ fpr: fp / neg, tpr: tp / pos });
  }
  const keep = sampleIndices(pts.length, max);
  return keep.map((i) => ({ fpr: round(pts[i].fpr), tpr: round(pts[i].tpr) }));
}

/** Counts of (actual, predicted) classes with predictions thresholded at `threshold`. */
export function confusion(label: ArrayLike<number>, prob: ArrayLike<number>, threshold = 0.5): { actual: number; predicted: number; count: number }[] {
  const c = [0, 0, 0, 0];
  for (let i = 0; i < label.length; i++) {
    if (!Number.isFinite(label[i]) || !Number.isFinite(prob[i])) continue;
    c[(label[i] > 0.5 ? 2 : 0) + (prob[i] >= threshold ? 1 : 0)]++;
  }
  return [
    { actual: 0, predicted: 0, count: c[0] },
    { actual: 0, predicted: 1, count: c[1] },
    { actual: 1, predicted: 0, count: c[2] },
    { actual: 1, predicted: 1, count: c[3] },
  ];
}

/** Pearson correlation of every pair of columns, over rows finite in both. */
export function correlationMatrix(columns: { name: string; values: ArrayLike<number> }[]): { a: string; b: string; r: number }[] {
  const out: { a: string; b: string; r: number }[] = [];
  for (const ca of columns)
    for (const cb of columns) {
      const xa: number[] = [];
      const xb: number[] = [];
      for (let i = 0; i < Math.min(ca.values.length, cb.values.length); i++)
        if (Number.isFinite(ca.values[i]) && Number.isFinite(cb.values[i])) {
          xa.push(ca.values[i]);
          xb.push(cb.values[i]);
        }
      out.push({ a: ca.name, b: cb.name, r: xa.length > 1 ? round(pearson(xa, xb), 3) : 0 });
    }
  return out;
}

export function mean(v: readonly number[]): number {
  return v.length ? v.reduce((s, x) => s + x, 0) / v.length : NaN;
}
