/**
 * @file `kmeans`: content clusters of an embedding block (HyperFusion's clustering features).
 * For each k in the list: the cluster id as a categorical column and the Euclidean distances to
 * the `n_dist` nearest centroids. Seeded k-means++ from the run's seed, float32 Lloyd iterations
 * (kmeans-fit.ts) on up to `fit_rows` sampled rows, then every row (train and test: no labels
 * involved) assigned to its nearest centroid. Rows without a vector (missing flag, NaN, or an
 * all-zero embedding) get NaN.
 *
 * @example
 *   - id: clipimg_km
 *     kind: kmeans
 *     inputs: [clipimg]
 *     params: { k: [16, 64], normalize: true, n_dist: 3 }
 */
import { z } from 'zod';
import { createMatrix } from '../core/matrix.ts';
import { UserError } from '../core/errors.ts';
import { defineFeature } from './feature.ts';
import { blockVectors, inputBlock } from './vectors.ts';
import { assignKMeans, fitKMeans } from './kmeans-fit.ts';

export const kmeansParams = z
  .object({
    input: z.string().optional().describe('id of the input block to cluster (default: the only entry in `inputs`)'),
    k: z.array(z.number().int().min(2).max(4096)).min(1).default([16, 64]).describe('numbers of clusters; one clustering per value'),
    normalize: z.boolean().default(true).describe('L2-normalise each row first (cosine geometry, usual for embeddings)'),
    n_dist: z.number().int().min(0).max(64).default(3).describe('distances to this many nearest centroids per k (0: none)'),
    zero_is_missing: z.boolean().default(true).describe('treat an all-zero row as missing (embedding kinds write zeros for unreadable inputs)'),
    fit_rows: z.number().int().min(100).default(20000).describe('fit centroids on at most this many rows (seeded sample); all rows are assigned'),
    max_iterations: z.number().int().min(1).max(1000).default(50).describe('Lloyd iterations at most'),
  })
  .strict();

export const kmeansFeature = defineFeature({
  kind: 'kmeans',
  version: 1,
  random: true,
  summary: 'k-means cluster ids (categorical) and distances to the nearest centroids, for several k',
  params: kmeansParams,
  async compute({ inputs, rng, log }, params) {
    const block = inputBlock(inputs, params.input, 'kmeans');
    const v = blockVectors(block, { zeroIsMissing: params.zero_is_missing, normalize: params.normalize });
    if (v.dim === 0) throw new UserError(`kmeans: input block has no numeric columns to cluster`);
    const ks = [...new Set(params.k)];
    const names: string[] = [];
    const categorical: boolean[] = [];
    for (const k of ks) {
      names.push(`km${k}`);
      categorical.push(true);
      for (let j = 1; j <= params.n_dist; j++) {
        names.push(`km${k}_d${j}`);
        categorical.push(false);
      }
    }
    const out = createMatrix(v.rows, names.length, names, categorical);
    let offset = 0;
    for (const k of ks) {
      const model = await fitKMeans(v, k, rng.fork(`k${k}`), { maxRows: params.fit_rows, maxIterations: params.max_iterations });
      if (model.k < k) log.warn('kmeans', `k=${k}: only ${model.k} distinct rows, fitted ${model.k} clusters`);
      log.info('kmeans', `k=${k}: ${model.iterations} iterations on ${model.fitted} rows${model.converged ? '' : ' (not converged)'}`, {
        k,
        iterations: model.iterations,
        converged: model.converged,
      });
      const { cluster, dist } = await assignKMeans(v, model, params.n_dist);
      for (let r = 0; r < v.rows; r++) {
        const o = r * out.cols + offset;
        out.data[o] = cluster[r];
        for (let j = 0; j < params.n_dist; j++) out.data[o + 1 + j] = dist[r * params.n_dist + j];
      }
      offset += 1 + params.n_dist;
    }
    return out;
  },
});
