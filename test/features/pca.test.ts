import { EigenvalueDecomposition, Matrix as MlMatrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { createMatrix, type Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { pca } from '../../features/pca.ts';
import { at, fakeContext, fakeTable } from './fake-context.ts';

const N = 400;
const SD = [5, 3, 2, 1, 0.5];
const D = SD.length;

/** Independent normals with decreasing sd, rotated by a random orthogonal matrix, shifted. */
function data(): { block: Matrix; cov: number[][] } {
  const rng = new Random(21);
  const q = new MlMatrix(D, D);
  for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) q.set(i, j, rng.normal());
  const rot = new EigenvalueDecomposition(q.mmul(q.transpose()), { assumeSymmetric: true }).eigenvectorMatrix; // orthogonal
  const block = createMatrix(N + 1, D, Array.from({ length: D }, (_, j) => `emb.e${j}`));
  const x = new MlMatrix(N, D);
  for (let r = 0; r < N; r++) {
    const z = SD.map((s) => s * rng.normal());
    for (let j = 0; j < D; j++) {
      let v = 10 + j; // non-zero mean: centring matters
      for (let k = 0; k < D; k++) v += rot.get(j, k) * z[k];
      x.set(r, j, v);
      block.data[r * D + j] = v;
    }
  }
  block.data.fill(NaN, N * D); // last row missing
  const mean = x.mean('column');
  const xc = x.clone().subRowVector(mean);
  const cov = xc.transpose().mmul(xc).div(N - 1).to2DArray();
  return { block, cov };
}

function variance(values: number[]): number {
  const m = values.reduce((s, v) => s + v, 0) / values.length;
  return values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1);
}

const pcCol = (m: Matrix, c: number) => Array.from({ length: N }, (_, r) => at(m, r, `pc${c}`));

describe('pca', () => {
  const { block, cov } = data();
  const table = fakeTable({ n: block.rows });
  const eig = new EigenvalueDecomposition(new MlMatrix(cov), { assumeSymmetric: true }).realEigenvalues.sort((a, b) => b - a);

  it('component variances match the covariance eigenvalues, largest first', async () => {
    const m = await pca.compute(fakeContext(table, { emb: block }), pca.params.parse({ components: 3 })) as Matrix;
    expect(m.names).toEqual(['pc0', 'pc1', 'pc2']);
    const vars = [0, 1, 2].map((c) => variance(pcCol(m, c)));
    expect(vars[0]).toBeGreaterThan(vars[1]);
    expect(vars[1]).toBeGreaterThan(vars[2]);
    vars.forEach((v, c) => expect(v / eig[c]).toBeCloseTo(1, 3));
    for (let c = 0; c < 3; c++) expect(at(m, N, `pc${c}`)).toBeNaN(); // the missing row
  });

  it('is deterministic, and signs do not depend on the random start', async () => {
    const params = pca.params.parse({ components: 3 });
    const a = await pca.compute(fakeContext(table, { emb: block }, 1), params) as Matrix;
    const b = await pca.compute(fakeContext(table, { emb: block }, 1), params) as Matrix;
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const c = await pca.compute(fakeContext(table, { emb: block }, 99), params) as Matrix;
    for (let i = 0; i < N * 3; i++) expect(c.data[i]).toBeCloseTo(a.data[i], 3);
  });

  it('whitening gives unit variance; a fitted sample still projects every row; extra components are zero', async () => {
    const w = await pca.compute(fakeContext(table, { emb: block }), pca.params.parse({ components: 2, whiten: true })) as Matrix;
    for (let c = 0; c < 2; c++) expect(variance(pcCol(w, c))).toBeCloseTo(1, 3);
    const s = await pca.compute(fakeContext(table, { emb: block }), pca.params.parse({ components: 2, fit_rows: 100 })) as Matrix;
    expect(variance(pcCol(s, 0)) / eig[0]).toBeGreaterThan(0.8); // close to the full fit
    expect(pcCol(s, 0).every(Number.isFinite)).toBe(true);
    const x = await pca.compute(fakeContext(table, { emb: block }), pca.params.parse({ components: 7 })) as Matrix;
    expect(pcCol(x, 6).every((v) => v === 0)).toBe(true);
  });
});
