/**
 * @file The challenge metrics. SRC (Spearman rank correlation, average ranks for ties) and MAE
 * for the image track, MAPE for the video track, plus RMSE, and AUC / accuracy for binary tasks.
 *
 * @example
 *   src([1, 2, 3], [1, 3, 2]); // 0.5
 */

type Vec = ArrayLike<number>;

function checkLengths(a: Vec, b: Vec): void {
  if (a.length !== b.length) throw new Error(`metric: ${a.length} labels but ${b.length} predictions`);
  if (a.length === 0) throw new Error('metric: no rows');
}

/** Average ranks (1-based), ties share the mean rank. */
export function rank(v: Vec): Float64Array {
  const n = v.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((i, j) => v[i] - v[j]);
  const r = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && v[idx[j + 1]] === v[idx[i]]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

export function pearson(a: Vec, b: Vec): number {
  checkLengths(a, b);
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return 0;
  return sab / Math.sqrt(saa * sbb);
}

/** Spearman rank correlation; 0 when either side is constant. */
export function src(y: Vec, p: Vec): number {
  checkLengths(y, p);
  return pearson(rank(y), rank(p));
}

export function mae(y: Vec, p: Vec): number {
  checkLengths(y, p);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += Math.abs(y[i] - p[i]);
  return s / y.length;
}

/** Mean absolute percentage error as a fraction (0.17, not 17%). Rows with y = 0 are skipped. */
export function mape(y: Vec, p: Vec): number {
  checkLengths(y, p);
  let s = 0;
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] === 0) continue;
    s += Math.abs((y[i] - p[i]) / y[i]);
    n++;
  }
  return n ? s / n : NaN;
}

export function rmse(y: Vec, p: Vec): number {
  checkLengths(y, p);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i] - p[i]) ** 2;
  return Math.sqrt(s / y.length);
}

/** Area under the ROC curve for labels in {0, 1} (Mann-Whitney, ties averaged). */
export function auc(y: Vec, p: Vec): number {
  checkLengths(y, p);
  const r = rank(p);
  let pos = 0;
  let sumPos = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] > 0.5) {
      pos++;
      sumPos += r[i];
    }
  }
  const neg = y.length - pos;
  if (pos === 0 || neg === 0) return 0.5;
  return (sumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Accuracy of probabilities thresholded at 0.5 against {0, 1} labels. */
export function accuracy(y: Vec, p: Vec): number {
  checkLengths(y, p);
  let ok = 0;
  for (let i = 0; i < y.length; i++) if ((p[i] >= 0.5 ? 1 : 0) === (y[i] > 0.5 ? 1 : 0)) ok++;
  return ok / y.length;
}

export type MetricName = 'src' | 'mae' | 'mape' | 'rmse' | 'auc' | 'accuracy';

export const METRICS: Readonly<Record<MetricName, { fn: (y: Vec, p: Vec) => number; higherIsBetter: boolean }>> = Object.freeze({
  src: { fn: src, higherIsBetter: true },
  mae: { fn: mae, higherIsBetter: false },
  mape: { fn: mape, higherIsBetter: false },
  rmse: { fn: rmse, higherIsBetter: false },
  auc: { fn: auc, higherIsBetter: true },
  accuracy: { fn: accuracy, higherIsBetter: true },
});
