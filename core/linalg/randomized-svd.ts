/**
 * @file Truncated SVD by randomized range finding (Halko, Martinsson & Tropp 2011), the method
 * behind scikit-learn's TruncatedSVD. Works on any operator that multiplies by A and A^T, so a
 * sparse TF-IDF matrix is never densified. Returns the row embedding U*S (= A*V), with each
 * component's sign fixed so results do not flip between runs. The operator may answer with a
 * promise (pca's runs its products on onnxruntime, see gemm.ts).
 *
 * @example
 *   const { embedding, singularValues } = await randomizedSvd(op, 20, rng);
 */
import { EigenvalueDecomposition, Matrix as MlMatrix } from 'ml-matrix';
import type { Random } from '../random.ts';
import { gemm64 } from './gemm.ts';

export interface LinearOperator {
  rows: number;
  cols: number;
  /** out(rows x l) = A * x(cols x l); row-major Float64Arrays. */
  mul(x: Float64Array, l: number): Float64Array | Promise<Float64Array>;
  /** out(cols x l) = A^T * y(rows x l). */
  mulT(y: Float64Array, l: number): Float64Array | Promise<Float64Array>;
}

/**
 * Orthonormalises the columns of a (rows x l) row-major matrix in place (modified Gram-Schmidt),
 * working on a column-major copy so that every pass reads two contiguous columns (row-major
 * columns are strided, and with 50K+ rows each pass went through the whole matrix). Columns in
 * the span of the earlier ones become 0.
 */
function gramSchmidt(a: Float64Array, rows: number, l: number): void {
  const t = new Float64Array(rows * l);
  for (let r = 0; r < rows; r++) for (let j = 0; j < l; j++) t[j * rows + r] = a[r * l + j];
  for (let j = 0; j < l; j++) {
    const cj = t.subarray(j * rows, (j + 1) * rows);
    for (let k = 0; k < j; k++) {
      const ck = t.subarray(k * rows, (k + 1) * rows);
      let dot = 0;
      for (let r = 0; r < rows; r++) dot += cj[r] * ck[r];
      for (let r = 0; r < rows; r++) cj[r] -= dot * ck[r];
    }
    let norm = 0;
    for (let r = 0; r < rows; r++) norm += cj[r] ** 2;
    norm = Math.sqrt(norm);
    for (let r = 0; r < rows; r++) cj[r] = norm > 1e-12 ? cj[r] / norm : 0;
  }
  for (let r = 0; r < rows; r++) for (let j = 0; j < l; j++) a[r * l + j] = t[j * rows + r];
}

/**
 * R (upper triangular, l x l, row-major) with G = RᵀR, or null when G is not safely positive
 * definite (a column within about 1e-6 of the span of the earlier ones).
 */
function cholesky(G: Float64Array, l: number): Float64Array | null {
  const R = new Float64Array(l * l);
  for (let j = 0; j < l; j++) {
    let s = G[j * l + j];
    for (let k = 0; k < j; k++) s -= R[k * l + j] ** 2;
    if (!(s > 1e-12 * G[j * l + j])) return null;
    const d = Math.sqrt(s);
    R[j * l + j] = d;
    for (let i = j + 1; i < l; i++) {
      let t = G[j * l + i];
      for (let k = 0; k < j; k++) t -= R[k * l + j] * R[k * l + i];
      R[j * l + i] = t / d;
    }
  }
  return R;
}

/** The inverse of an upper triangular R (l x l, row-major), itself upper triangular. */
function invertUpper(R: Float64Array, l: number): Float64Array {
  const inv = new Float64Array(l * l);
  for (let j = 0; j < l; j++) {
    inv[j * l + j] = 1 / R[j * l + j];
    for (let i = j - 1; i >= 0; i--) {
      let s = 0;
      for (let k = i; k < j; k++) s += inv[i * l + k] * R[k * l + j];
      inv[i * l + j] = -s / R[j * l + j];
    }
  }
  return inv;
}

/**
 * Orthonormal columns spanning those of a (rows x l, row-major) by Cholesky QR: its two
 * products AᵀA and A·R⁻¹ in float64 on MLAS, a pass over the rows each where Gram-Schmidt makes
 * l. One pass leaves the columns orthogonal to about cond(A)² x 1e-16, enough to keep the power
 * iterations' basis well conditioned; `passes: 2` (CholeskyQR2, Fukaya et al. 2014) repairs
 * that for the final basis. Rank-deficient or badly conditioned columns fall back to
 * Gram-Schmidt (in place: `a` is the caller's scratch, as every operator product is).
 */
async function orthonormalize(a: Float64Array, rows: number, l: number, passes = 1): Promise<Float64Array> {
  let q = a;
  for (let pass = 0; pass < passes; pass++) {
    const R = cholesky(await gemm64(q, q, l, rows, l, true), l);
    if (!R) {
      gramSchmidt(q, rows, l);
      return q;
    }
    q = await gemm64(q, invertUpper(R, l), rows, l, l);
  }
  return q;
}

export async function randomizedSvd(
  op: LinearOperator,
  k: number,
  rng: Random,
  opts: { oversample?: number; powerIterations?: number } = {},
): Promise<{ embedding: Float64Array; singularValues: Float64Array; k: number }> {
  const kk = Math.min(k, op.rows, op.cols);
  const l = Math.min(kk + (opts.oversample ?? 10), op.rows, op.cols);
  const omega = new Float64Array(op.cols * l);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();
  const iterations = opts.powerIterations ?? 4;
  let y = await orthonormalize(await op.mul(omega, l), op.rows, l, iterations === 0 ? 2 : 1);
  for (let it = 0; it < iterations; it++) {
    const z = await orthonormalize(await op.mulT(y, l), op.cols, l);
    y = await orthonormalize(await op.mul(z, l), op.rows, l, it === iterations - 1 ? 2 : 1);
  }
  // B = Q^T A (l x cols); its left singular vectors come from the small l x l matrix B B^T.
  const bt = await op.mulT(y, l); // cols x l = A^T Q = B^T
  const bbt = new MlMatrix(l, l);
  for (let i = 0; i < l; i++)
    for (let j = i; j < l; j++) {
      let s = 0;
      for (let c = 0; c < op.cols; c++) s += bt[c * l + i] * bt[c * l + j];
      bbt.set(i, j, s);
      bbt.set(j, i, s);
    }
  const eig = new EigenvalueDecomposition(bbt, { assumeSymmetric: true });
  const order = eig.realEigenvalues.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
  const vecs = eig.eigenvectorMatrix;
  // U = Q·U_b (rows x kk, one product); embedding = U·S, each column's sign set so that its
  // largest |value| is positive.
  const singularValues = new Float64Array(kk);
  const ub = new Float64Array(l * kk);
  for (let c = 0; c < kk; c++) {
    const [val, idx] = order[c];
    singularValues[c] = Math.sqrt(Math.max(0, val));
    vecs.getColumn(idx).forEach((v, j) => (ub[j * kk + c] = v));
  }
  const embedding = await gemm64(y, ub, op.rows, l, kk);
  const maxAbs = new Float64Array(kk);
  const sign = new Float64Array(kk).fill(1);
  for (let r = 0; r < op.rows; r++)
    for (let c = 0; c < kk; c++) {
      const u = embedding[r * kk + c];
      if (Math.abs(u) > maxAbs[c]) {
        maxAbs[c] = Math.abs(u);
        sign[c] = u < 0 ? -1 : 1;
      }
    }
  for (let r = 0; r < op.rows; r++) for (let c = 0; c < kk; c++) embedding[r * kk + c] *= sign[c] * singularValues[c];
  return { embedding, singularValues, k: kk };
}
