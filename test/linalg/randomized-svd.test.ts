/**
 * @file The randomized SVD on dense matrices with planted singular values: the values and the
 * row embedding (A·V, signs fixed) come back; a rank-deficient matrix (fewer independent columns
 * than the oversampled basis) takes the Gram-Schmidt fallback and still gives its exact rank.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../core/random.ts';
import { randomizedSvd, type LinearOperator } from '../../core/linalg/randomized-svd.ts';

/** Orthonormal columns (n x k, row-major) from Gram-Schmidt on Gaussian draws. */
function orthonormal(n: number, k: number, rng: Random): Float64Array {
  const q = new Float64Array(n * k);
  for (let j = 0; j < k; j++) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (let p = 0; p < j; p++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += v[i] * q[i * k + p];
      for (let i = 0; i < n; i++) v[i] -= d * q[i * k + p];
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < n; i++) q[i * k + j] = v[i] / norm;
  }
  return q;
}

/** A = U diag(s) Vᵀ as a dense operator. */
function planted(rows: number, cols: number, s: number[], rng: Random) {
  const k = s.length;
  const U = orthonormal(rows, k, rng);
  const V = orthonormal(cols, k, rng);
  const A = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) for (let j = 0; j < k; j++) A[r * cols + c] += U[r * k + j] * s[j] * V[c * k + j];
  const op: LinearOperator = {
    rows,
    cols,
    mul(x, l) {
      const out = new Float64Array(rows * l);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) for (let j = 0; j < l; j++) out[r * l + j] += A[r * cols + c] * x[c * l + j];
      return out;
    },
    mulT(y, l) {
      const out = new Float64Array(cols * l);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) for (let j = 0; j < l; j++) out[c * l + j] += A[r * cols + c] * y[r * l + j];
      return out;
    },
  };
  return { op, U };
}

describe('randomizedSvd', () => {
  it('finds planted singular values and the row embedding U·S (each column up to its sign)', async () => {
    const s = [50, 20, 10, 5, 2, 1, 0.5, 0.25];
    const { op, U } = planted(400, 60, s, new Random(1));
    const { embedding, singularValues, k } = await randomizedSvd(op, 4, new Random(2));
    expect(k).toBe(4);
    for (let c = 0; c < 4; c++) {
      expect(singularValues[c]).toBeCloseTo(s[c], 8);
      const sign = Math.sign(embedding[c]) * Math.sign(U[c]) || 1;
      for (let r = 0; r < 400; r += 37) expect(embedding[r * 4 + c]).toBeCloseTo(sign * U[r * 8 + c] * s[c], 8);
    }
    // deterministic for a seed
    const again = await randomizedSvd(op, 4, new Random(2));
    expect(Array.from(again.embedding)).toEqual(Array.from(embedding));
  });

  it('a rank-3 matrix (basis of 13 columns) takes the Gram-Schmidt fallback: 3 values, the rest 0', async () => {
    const { op } = planted(300, 40, [9, 4, 1], new Random(3));
    const { singularValues, embedding } = await randomizedSvd(op, 5, new Random(4));
    expect(Array.from(singularValues.subarray(0, 3), (v) => Number(v.toFixed(6)))).toEqual([9, 4, 1]);
    expect(singularValues[3]).toBeLessThan(1e-6);
    expect(embedding.every(Number.isFinite)).toBe(true);
  });
});
