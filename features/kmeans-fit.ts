/**
 * @file K-means shared by the `kmeans` and `hclust` kinds: k-means++ seeding drawn from the
 * kit's seeded Random (so the same seed gives the same clusters), Lloyd iterations by
 * ml-kmeans on at most `maxRows` sampled rows (ml-kmeans works on number[][]; 486K x 512
 * would not fit), then every row assigned to its nearest centroid: squared distances
 * |x|² - 2 x·c + |c|² from one float32 product per chunk of rows (gemm.ts), and the distances
 * written out recomputed exactly (float64, x - c) for the nearest centroids.
 *
 * @example
 *   const model = fitKMeans(vectors, 32, rng.fork('k32'), { maxRows: 20000, maxIterations: 50 });
 *   const { cluster, dist } = await assignKMeans(vectors, model, 3); // dist: rows x 3, nearest first
 */
import { kmeans } from 'ml-kmeans';
import type { Random } from '../core/random.ts';
import { gemm } from '../core/linalg/gemm.ts';
import { presentRows, readRow, rowChunks, type Vectors } from './vectors.ts';

export interface KMeansModel {
  /** Number of centroids actually fitted (k, or fewer when fewer distinct rows exist). */
  readonly k: number;
  readonly dim: number;
  /** k x dim, row-major. */
  readonly centroids: Float64Array;
  readonly iterations: number;
  readonly converged: boolean;
  /** Rows the centroids were fitted on. */
  readonly fitted: number;
}

export interface KMeansOptions {
  maxRows: number;
  maxIterations: number;
  tolerance?: number;
}

function sqDist(a: Float64Array, ai: number, b: Float64Array, bi: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) {
    const d = a[ai + j] - b[bi + j];
    s += d * d;
  }
  return s;
}

/** k-means++ (Arthur & Vassilvitskii 2007): each next seed drawn with probability ~ D(x)^2. */
export function kmeansPlusPlus(points: number[][], k: number, rng: Random): number[][] {
  const n = points.length;
  const dim = points[0].length;
  const flat = new Float64Array(n * dim);
  points.forEach((p, i) => flat.set(p, i * dim));
  const chosen: number[] = [rng.int(n)];
  const d2 = new Float64Array(n);
  for (let i = 0; i < n; i++) d2[i] = sqDist(flat, i * dim, flat, chosen[0] * dim, dim);
  while (chosen.length < k) {
    let total = 0;
    for (let i = 0; i < n; i++) total += d2[i];
    if (total <= 0) break; // every point coincides with a seed: no distinct point left
    let target = rng.next() * total;
    let pick = -1;
    let last = -1; // last point not yet a seed, should rounding leave target >= 0 at the end
    for (let i = 0; i < n; i++) {
      if (d2[i] <= 0) continue;
      last = i;
      target -= d2[i];
      if (target < 0) {
        pick = i;
        break;
      }
    }
    if (pick < 0) pick = last;
    chosen.push(pick);
    for (let i = 0; i < n; i++) {
      const d = sqDist(flat, i * dim, flat, pick * dim, dim);
      if (d < d2[i]) d2[i] = d;
    }
  }
  return chosen.map((i) => points[i].slice());
}

/** Fits k centroids on the rows that have a vector (a seeded sample of them when many). */
export function fitKMeans(v: Vectors, k: number, rng: Random, opts: KMeansOptions): KMeansModel {
  let rows = Array.from(presentRows(v));
  if (rows.length === 0) return { k: 0, dim: v.dim, centroids: new Float64Array(0), iterations: 0, converged: true, fitted: 0 };
  if (rows.length > opts.maxRows) {
    // partial Fisher-Yates: the first maxRows entries become a uniform sample; sorted for locality
    for (let i = 0; i < opts.maxRows; i++) {
      const j = i + rng.int(rows.length - i);
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    rows = rows.slice(0, opts.maxRows).sort((a, b) => a - b);
  }
  const row = new Float64Array(v.dim);
  const points = rows.map((r) => {
    readRow(v, r, row);
    return Array.from(row);
  });
  const seeds = kmeansPlusPlus(points, Math.min(k, points.length), rng);
  const result = kmeans(points, seeds.length, {
    initialization: seeds,
    maxIterations: opts.maxIterations,
    tolerance: opts.tolerance ?? 1e-6,
  });
  const centroids = new Float64Array(seeds.length * v.dim);
  result.centroids.forEach((c, i) => centroids.set(c, i * v.dim));
  return { k: seeds.length, dim: v.dim, centroids, iterations: result.iterations, converged: result.converged, fitted: points.length };
}

/**
 * Nearest centroid of every row and the Euclidean distances to its `nDist` nearest centroids
 * (ascending, ties to the lower index). Missing rows, and distance slots beyond the number of
 * centroids, are NaN. Centroids are ranked by the float32 product; the nearest max(nDist, 1)
 * are then measured exactly, re-ranked, and give the cluster and the distances.
 */
export async function assignKMeans(v: Vectors, model: KMeansModel, nDist: number): Promise<{ cluster: Float32Array; dist: Float32Array }> {
  const { k, dim, centroids } = model;
  const cluster = new Float32Array(v.rows).fill(NaN);
  const dist = new Float32Array(v.rows * nDist).fill(NaN);
  if (k === 0) return { cluster, dist };
  const ct = new Float32Array(dim * k); // centroids transposed: dim x k
  const cNorm = new Float64Array(k);
  for (let c = 0; c < k; c++)
    for (let j = 0; j < dim; j++) {
      ct[j * k + c] = centroids[c * dim + j];
      cNorm[c] += centroids[c * dim + j] ** 2;
    }
  const m = Math.min(Math.max(nDist, 1), k);
  const d = new Float64Array(k);
  const order = new Int32Array(k);
  const exact = new Float64Array(m);
  const x = new Float64Array(dim);
  const rows = presentRows(v);
  for (const chunk of rowChunks(v, rows)) {
    const dots = await gemm(chunk.data, ct, chunk.count, dim, k);
    for (let i = 0; i < chunk.count; i++) {
      const r = rows[chunk.start + i];
      readRow(v, r, x);
      let xNorm = 0;
      for (let j = 0; j < dim; j++) xNorm += x[j] * x[j];
      for (let c = 0; c < k; c++) d[c] = xNorm - 2 * dots[i * k + c] + cNorm[c];
      // partial selection sort: only the m nearest are needed
      for (let c = 0; c < k; c++) order[c] = c;
      for (let a = 0; a < m; a++) {
        let best = a;
        for (let b = a + 1; b < k; b++) if (d[order[b]] < d[order[best]] || (d[order[b]] === d[order[best]] && order[b] < order[best])) best = b;
        [order[a], order[best]] = [order[best], order[a]];
      }
      // exact distances of those m, re-ranked (insertion sort, ties to the lower index)
      for (let a = 0; a < m; a++) {
        const c = order[a];
        let s = 0;
        for (let j = 0; j < dim; j++) {
          const t = x[j] - centroids[c * dim + j];
          s += t * t;
        }
        let b = a;
        for (; b > 0 && (exact[b - 1] > s || (exact[b - 1] === s && order[b - 1] > c)); b--) {
          exact[b] = exact[b - 1];
          order[b] = order[b - 1];
        }
        exact[b] = s;
        order[b] = c;
      }
      cluster[r] = order[0];
      for (let a = 0; a < Math.min(nDist, k); a++) dist[r * nDist + a] = Math.sqrt(exact[a]);
    }
  }
  return { cluster, dist };
}
