/**
 * @file `pca`: principal components of any input block (usually an embedding), so that a
 * 512-float CLIP vector reaches the learners as a few dozen columns. Rows are centred, the
 * components come from the randomized SVD in core/linalg (fitted on up to `fit_rows` seeded
 * rows, then every row projected), ordered by explained variance, with signs fixed so they do
 * not flip between runs. `whiten` scales each component to unit variance. Rows without a
 * vector (NaN, a missing flag, or an all-zero embedding) get NaN. No labels involved.
 *
 * @example
 *   - id: clipimg_pca
 *     kind: pca
 *     inputs: [clipimg]
 *     params: { components: 32, whiten: false }
 */
import { z } from 'zod';
import { createMatrix } from '../core/matrix.ts';
import { randomizedSvd, type LinearOperator } from '../core/linalg/randomized-svd.ts';
import { gemm } from '../core/linalg/gemm.ts';
import { UserError } from '../core/errors.ts';
import { defineFeature } from './feature.ts';
import { blockVectors, inputBlock, presentRows, readRow, rowChunks, type Vectors } from './vectors.ts';

/**
 * A = X[rows] - mean, as an operator (never materialised): each product reads the rows in
 * float32 chunks, centred as they are read, and multiplies them on onnxruntime (gemm.ts).
 */
function centredOperator(v: Vectors, rows: Int32Array, mean: Float64Array): LinearOperator {
  const { dim } = v;
  return {
    rows: rows.length,
    cols: dim,
    async mul(x, l) {
      const b = Float32Array.from(x);
      const out = new Float64Array(rows.length * l);
      for (const c of rowChunks(v, rows, { centre: mean })) out.set(await gemm(c.data, b, c.count, dim, l), c.start * l);
      return out;
    },
    async mulT(y, l) {
      const y32 = Float32Array.from(y);
      const out = new Float64Array(dim * l);
      for (const c of rowChunks(v, rows, { centre: mean })) {
        const part = await gemm(c.data, y32.subarray(c.start * l, (c.start + c.count) * l), dim, c.count, l, true);
        for (let i = 0; i < out.length; i++) out[i] += part[i];
      }
      return out;
    },
  };
}

export const pca = defineFeature({
  kind: 'pca',
  version: 2, // 2: the randomized SVD orthonormalises by Cholesky QR (values move in the last float32 bits)
  random: true,
  summary: 'principal components of an input block (centred randomized SVD, fixed signs, optional whitening)',
  params: z
    .object({
      input: z.string().optional().describe('id of the input block to reduce (default: the only entry in `inputs`)'),
      components: z.number().int().min(1).max(1024).default(32).describe('number of principal components to keep'),
      whiten: z.boolean().default(false).describe('scale each component to unit variance'),
      normalize: z.boolean().default(false).describe('L2-normalise each row before centring'),
      zero_is_missing: z.boolean().default(true).describe('treat an all-zero row as missing (embedding kinds write zeros for unreadable inputs)'),
      fit_rows: z.number().int().min(10).default(50000).describe('fit the components on at most this many rows (seeded sample); all rows are projected'),
      power_iterations: z.number().int().min(0).max(20).default(4).describe('randomized SVD power iterations (more: more accurate trailing components)'),
    })
    .strict(),
  async compute({ inputs, rng, log }, params) {
    const block = inputBlock(inputs, params.input, 'pca');
    const v = blockVectors(block, { zeroIsMissing: params.zero_is_missing, normalize: params.normalize });
    const { dim } = v;
    if (dim === 0) throw new UserError('pca: input block has no numeric columns');
    const k = params.components;
    const names = Array.from({ length: k }, (_, c) => `pc${c}`);
    const out = createMatrix(v.rows, k, names);
    out.data.fill(NaN);
    const present = presentRows(v);
    if (present.length < 2) {
      log.warn('pca', `only ${present.length} rows have a vector; all components are missing`);
      return out;
    }
    const svdRng = rng.fork('svd');
    let fitRows = present;
    if (present.length > params.fit_rows) {
      const pick = Array.from(present);
      const sampler = rng.fork('sample');
      for (let i = 0; i < params.fit_rows; i++) {
        const j = i + sampler.int(pick.length - i);
        [pick[i], pick[j]] = [pick[j], pick[i]];
      }
      fitRows = Int32Array.from(pick.slice(0, params.fit_rows).sort((a, b) => a - b));
    }
    const n = fitRows.length;
    const mean = new Float64Array(dim);
    const row = new Float64Array(dim);
    for (const r of fitRows) {
      readRow(v, r, row);
      for (let c = 0; c < dim; c++) mean[c] += row[c];
    }
    for (let c = 0; c < dim; c++) mean[c] /= n;
    const op = centredOperator(v, fitRows, mean);
    const { embedding, singularValues, k: kk } = await randomizedSvd(op, k, svdRng, { powerIterations: params.power_iterations });
    // Loadings V = A^T (U S) / S^2, so that every row (fitted or not) projects as (x - mean) V;
    // whitening folds 1/sd into them.
    const us = await op.mulT(embedding, kk); // dim x kk
    const loadings = new Float32Array(dim * kk);
    for (let c = 0; c < kk; c++) {
      const s2 = singularValues[c] ** 2;
      const sd = singularValues[c] / Math.sqrt(n - 1);
      const scale = params.whiten ? (sd > 1e-12 ? 1 / sd : 0) : 1;
      for (let d = 0; d < dim; d++) loadings[d * kk + c] = s2 > 1e-24 ? (us[d * kk + c] / s2) * scale : 0;
    }
    for (const chunk of rowChunks(v, present, { centre: mean })) {
      const proj = await gemm(chunk.data, loadings, chunk.count, dim, kk);
      for (let i = 0; i < chunk.count; i++) {
        const o = present[chunk.start + i] * k;
        // components beyond the data's rank (more asked than it has) carry no variance: zero
        for (let c = 0; c < k; c++) out.data[o + c] = c < kk ? proj[i * kk + c] : 0;
      }
    }
    let total = 0;
    for (const r of fitRows) {
      readRow(v, r, row);
      for (let d = 0; d < dim; d++) total += (row[d] - mean[d]) ** 2;
    }
    let kept = 0;
    for (let c = 0; c < kk; c++) kept += singularValues[c] ** 2;
    if (kk < k) log.warn('pca', `${k} components asked, the data has at most ${kk}; the rest are zero`);
    log.info('pca', `${kk} components of ${dim} columns explain ${total > 0 ? ((100 * kept) / total).toFixed(1) : '0'}% of the variance (fitted on ${n} rows)`);
    return out;
  },
});
