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
 * columns are strided, and with 50K+ rows each pass went through the whole matrix).
 */
function orthonormalize(a: Float64Array, rows: number, l: number): void {
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
  let y = await op.mul(omega, l);
  orthonormalize(y, op.rows, l);
  for (let it = 0; it < (opts.powerIterations ?? 4); it++) {
    const z = await op.mulT(y, l);
    orthonormalize(z, op.cols, l);
    y = await op.mul(z, l);
    orthonormalize(y, op.rows, l);
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
  const embedding = new Float64Array(op.rows * kk);
  const singularValues = new Float64Array(kk);
  for (let c = 0; c < kk; c++) {
    const [val, idx] = order[c];
    singularValues[c] = Math.sqrt(Math.max(0, val));
    const ub = Float64Array.from(vecs.getColumn(idx));
    // U column = Q * u_b; embedding = U * s.
    let maxAbs = 0;
    let sign = 1;
    for (let r = 0; r < op.rows; r++) {
      let s = 0;
      for (let j = 0; j < l; j++) s += y[r * l + j] * ub[j];
      embedding[r * kk + c] = s * singularValues[c];
      if (Math.abs(s) > maxAbs) {
        maxAbs = Math.abs(s);
        sign = s < 0 ? -1 : 1;
      }
    }
    if (sign < 0) for (let r = 0; r < op.rows; r++) embedding[r * kk + c] = -embedding[r * kk + c];
  }
  return { embedding, singularValues, k: kk };
}
