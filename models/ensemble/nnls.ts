/**
 * @file Non-negative ridge regression with an intercept, by cyclic coordinate descent: the
 * default stacker. Weights stay >= 0 so a bad base model is switched off rather than
 * subtracted, which keeps stacks stable on small data.
 *
 * @example
 *   const { weights, intercept } = nnls(columns, y, { alpha: 1e-3 });
 */

export interface NnlsFit {
  weights: number[];
  intercept: number;
}

/** columns[j][i]: prediction of model j for row i. */
export function nnls(columns: readonly ArrayLike<number>[], y: ArrayLike<number>, opts: { alpha?: number; iterations?: number; weight?: ArrayLike<number> } = {}): NnlsFit {
  const k = columns.length;
  const n = y.length;
  const alpha = opts.alpha ?? 1e-3;
  const w = opts.weight;
  let sw = 0;
  let ym = 0;
  const xm = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i] : 1;
    sw += wi;
    ym += wi * y[i];
    for (let j = 0; j < k; j++) xm[j] += wi * columns[j][i];
  }
  ym /= sw;
  for (let j = 0; j < k; j++) xm[j] /= sw;
  // Gram matrix of centred columns, then coordinate descent on the small k x k problem.
  const g = new Float64Array(k * k);
  const b = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i] : 1;
    const yi = y[i] - ym;
    for (let a = 0; a < k; a++) {
      const xa = columns[a][i] - xm[a];
      b[a] += wi * xa * yi;
      for (let c = a; c < k; c++) g[a * k + c] += wi * xa * (columns[c][i] - xm[c]);
    }
  }
  for (let a = 0; a < k; a++) for (let c = 0; c < a; c++) g[a * k + c] = g[c * k + a];
  const scale = sw; // alpha is per row, like scikit-learn's Ridge on mean loss
  const coef = new Float64Array(k).fill(1 / k);
  for (let it = 0; it < (opts.iterations ?? 500); it++) {
    let change = 0;
    for (let a = 0; a < k; a++) {
      let r = b[a];
      for (let c = 0; c < k; c++) if (c !== a) r -= g[a * k + c] * coef[c];
      const next = Math.max(0, r / (g[a * k + a] + alpha * scale));
      change = Math.max(change, Math.abs(next - coef[a]));
      coef[a] = next;
    }
    if (change < 1e-10) break;
  }
  let intercept = ym;
  for (let j = 0; j < k; j++) intercept -= coef[j] * xm[j];
  return { weights: Array.from(coef), intercept };
}
