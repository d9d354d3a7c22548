/**
 * @file `hclust`: hierarchical cluster membership (HyperFusion's hierarchical clustering
 * features). The input block is first summarised by `k` k-means centroids (seeded, as in
 * `kmeans`); ml-hclust's agnes builds a dendrogram over those centroids; the tree is cut at
 * several numbers of clusters (`levels`) and each row gets, per level, the group of its
 * centroid as a categorical column. Cuts take a prefix of one merge order, so levels nest:
 * rows that share a fine group always share the coarser ones (related clusters share a parent).
 * Groups are numbered by descending row count. Rows without a vector get NaN.
 *
 * @example
 *   - id: clipimg_hc
 *     kind: hclust
 *     inputs: [clipimg]
 *     params: { k: 64, levels: [4, 8, 16], method: ward }
 */
import { z } from 'zod';
import { agnes, type Cluster } from 'ml-hclust';
import { createMatrix } from '../core/matrix.ts';
import { UserError } from '../core/errors.ts';
import { defineFeature } from './feature.ts';
import { blockVectors, inputBlock } from './vectors.ts';
import { assignKMeans, fitKMeans } from './kmeans-fit.ts';

interface Merge {
  a: number; // representative leaf of one side
  b: number; // representative leaf of the other side
  height: number;
  depth: number;
  minLeaf: number;
}

/**
 * The dendrogram's merges in an order every cut can take a prefix of: by height made monotone
 * (a merge is never above its parent, even for centroid/median linkage), then depth, then leaf.
 */
function mergeOrder(root: Cluster): Merge[] {
  const merges: Merge[] = [];
  const visit = (c: Cluster): { leaf: number; height: number; depth: number } => {
    if (c.isLeaf || c.children.length === 0) return { leaf: c.index, height: 0, depth: 0 };
    const kids = c.children.map(visit);
    const height = Math.max(c.height, ...kids.map((k) => k.height));
    const depth = 1 + Math.max(...kids.map((k) => k.depth));
    const minLeaf = Math.min(...kids.map((k) => k.leaf));
    // agnes merges two children at a time; chain them should a node hold more
    for (let i = 1; i < kids.length; i++) merges.push({ a: kids[0].leaf, b: kids[i].leaf, height, depth, minLeaf });
    return { leaf: minLeaf, height, depth };
  };
  visit(root);
  return merges.sort((x, y) => x.height - y.height || x.depth - y.depth || x.minLeaf - y.minLeaf);
}

/** For each level (number of groups), the group of each leaf, groups numbered by descending weight. */
export function cutLevels(root: Cluster | null, leaves: number, levels: readonly number[], weight: ArrayLike<number>): Int32Array[] {
  const merges = root && leaves > 1 ? mergeOrder(root) : [];
  return levels.map((groups) => {
    const parent = Int32Array.from({ length: leaves }, (_, i) => i);
    const find = (i: number): number => {
      while (parent[i] !== i) i = parent[i] = parent[parent[i]];
      return i;
    };
    const apply = Math.max(0, leaves - groups);
    for (let m = 0; m < apply && m < merges.length; m++) {
      const ra = find(merges[m].a);
      const rb = find(merges[m].b);
      if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
    }
    const roots = new Map<number, { w: number; first: number }>();
    for (let i = 0; i < leaves; i++) {
      const r = find(i);
      const g = roots.get(r) ?? { w: 0, first: i };
      g.w += weight[i];
      roots.set(r, g);
    }
    const ranked = [...roots.entries()].sort((x, y) => y[1].w - x[1].w || x[1].first - y[1].first);
    const code = new Map(ranked.map(([r], i) => [r, i]));
    return Int32Array.from({ length: leaves }, (_, i) => code.get(find(i))!);
  });
}

export const hclust = defineFeature({
  kind: 'hclust',
  version: 1,
  random: true,
  summary: 'hierarchical cluster membership at several cut levels, over the k-means centroids of a block',
  params: z
    .object({
      input: z.string().optional().describe('id of the input block to cluster (default: the only entry in `inputs`)'),
      k: z.number().int().min(2).max(4096).default(64).describe('k-means centroids the dendrogram is built over (its leaves)'),
      levels: z.array(z.number().int().min(2)).min(1).default([4, 8, 16]).describe('numbers of clusters to cut the dendrogram into; one categorical column each'),
      method: z
        .enum(['ward', 'complete', 'average', 'single', 'centroid', 'median'])
        .default('ward')
        .describe('agnes linkage between centroid groups'),
      leaf: z.boolean().default(false).describe('also output the k-means centroid id (the finest level) as a categorical column'),
      normalize: z.boolean().default(true).describe('L2-normalise each row first (cosine geometry, usual for embeddings)'),
      zero_is_missing: z.boolean().default(true).describe('treat an all-zero row as missing (embedding kinds write zeros for unreadable inputs)'),
      fit_rows: z.number().int().min(100).default(20000).describe('fit centroids on at most this many rows (seeded sample); all rows are assigned'),
      max_iterations: z.number().int().min(1).max(1000).default(50).describe('k-means Lloyd iterations at most'),
    })
    .strict(),
  async compute({ inputs, rng, log }, params) {
    const block = inputBlock(inputs, params.input, 'hclust');
    const v = blockVectors(block, { zeroIsMissing: params.zero_is_missing, normalize: params.normalize });
    if (v.dim === 0) throw new UserError(`hclust: input block has no numeric columns to cluster`);
    for (const c of params.levels)
      if (c >= params.k) throw new UserError(`hclust: level ${c} needs fewer clusters than the k=${params.k} centroids it groups`);
    const levels = [...new Set(params.levels)].sort((a, b) => a - b); // coarse to fine
    const model = await fitKMeans(v, params.k, rng.fork(`k${params.k}`), { maxRows: params.fit_rows, maxIterations: params.max_iterations });
    const { cluster } = await assignKMeans(v, model, 0);
    const weight = new Float64Array(model.k);
    for (const c of cluster) if (!Number.isNaN(c)) weight[c]++;
    const centroids = Array.from({ length: model.k }, (_, i) => Array.from(model.centroids.subarray(i * model.dim, (i + 1) * model.dim)));
    const tree = model.k > 1 ? agnes(centroids, { method: params.method }) : null;
    const groups = cutLevels(tree, model.k, levels, weight);
    log.info('hclust', `${model.k} centroids cut into ${levels.join('/')} groups (${params.method})`);

    const names = levels.map((c) => `hc${c}`);
    if (params.leaf) names.push(`hc_leaf${params.k}`);
    const out = createMatrix(v.rows, names.length, names, names.map(() => true));
    for (let r = 0; r < v.rows; r++) {
      const leaf = cluster[r];
      const o = r * out.cols;
      for (let l = 0; l < levels.length; l++) out.data[o + l] = Number.isNaN(leaf) ? NaN : groups[l][leaf];
      if (params.leaf) out.data[o + levels.length] = leaf;
    }
    return out;
  },
});
