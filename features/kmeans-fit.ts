/**
 * @file K-means shared by the `kmeans` and `hclust` kinds: k-means++ seeding drawn from the
 * kit's seeded Random (so the same seed gives the same clusters), Lloyd iterations on at most
 * `maxRows` sampled rows held as one float32 array, then every row assigned to its nearest
 * centroid. Both assignments rank centroids by squared distances |x|² - 2 x·c + |c|² from
 * float32 products (gemm.ts; ml-kmeans' number[][] loops took ~130 s for k=16 and 64 on 20K x
 * 512); the final one writes out the distances recomputed exactly (float64, x - c) for the
 * nearest centroids.
 *
 * @example
 *   const model = await fitKMeans(vectors, 32, rng.fork('k32'), { maxRows: 20000, maxIterations: 50 });
 *   const { cluster, dist } = await assignKMeans(vectors, model, 3); // dist: rows x 3, nearest first
 */
import type { Random } from '../core/random.ts';
import { gemm } from '../core/linalg/gemm.ts';
import { CHUNK_ROWS, presentRows, readRow, rowChunks, type Vectors } from './vectors.ts';

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

/** The next seed, drawn with probability ~ d2; -1 when every point coincides with a seed. */
function drawSeed(d2: Float64Array, rng: Random): number {
  let total = 0;
  for (let i = 0; i < d2.length; i++) total += d2[i];
  if (total <= 0) return -1;
  let target = rng.next() * total;
  let last = -1; // last point not yet a seed, should rounding leave target >= 0 at the end
  for (let i = 0; i < d2.length; i++) {
    if (d2[i] <= 0) continue;
    last = i;
    target -= d2[i];
    if (target < 0) return i;
  }
  return last;
}

/**
 * k-means++ (Arthur & Vassilvitskii 2007: each next seed drawn with probability ~ D(x)^2) on the
 * n x dim points `flat`, with `x32` the same points in float32. A float32 product (gemm) gives each point's
 * distance to the new seed within a proven bound; only points it cannot rule out get the exact
 * float64 distance, so d2 stays bit-identical at a fraction of the work.
 */
export async function kmeansPlusPlusRows(flat: Float64Array, x32: Float32Array, n: number, dim: number, k: number, rng: Random): Promise<number[]> {
  const chosen: number[] = [rng.int(n)];
  const d2 = new Float64Array(n);
  const norm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    d2[i] = sqDist(flat, i * dim, flat, chosen[0] * dim, dim);
    let s = 0;
    for (let j = i * dim; j < (i + 1) * dim; j++) s += flat[j] * flat[j];
    norm[i] = s;
  }
  // worst case |fl32(x·p) - x·p| <= ~(dim + 3) 2^-24 |x||p| (rounding to float32, then any
  // summation order); x2 for the 2 x·p in d, x2 to spare, plus a float64 term
  const rel = 4 * (dim + 4) * 2 ** -24;
  while (chosen.length < k) {
    const pick = drawSeed(d2, rng);
    if (pick < 0) break;
    chosen.push(pick);
    const dots = await gemm(x32, x32.slice(pick * dim, (pick + 1) * dim), n, dim, 1);
    const pn = norm[pick];
    for (let i = 0; i < n; i++) {
      const margin = rel * Math.sqrt(norm[i] * pn) + 1e-12 * (norm[i] + pn);
      if (norm[i] - 2 * dots[i] + pn - margin > d2[i]) continue; // surely not nearer
      const d = sqDist(flat, i * dim, flat, pick * dim, dim);
      if (d < d2[i]) d2[i] = d;
    }
  }
  return chosen;
}

/**
 * Lloyd iterations from `centroids` (k x dim, updated in place) on the float32 sample x (n x
 * dim). Assignment: d = |x|² - 2 x·c + |c|² with x·c from gemm, ties to the lower index.
 * Update: cluster means summed in float64. As in ml-kmeans 7: converged once no centroid moved
 * more than `tolerance` in squared Euclidean distance; `iterations` counts assign+update steps;
 * an empty cluster keeps its previous centroid (deterministic, and it may win rows back later).
 */
async function lloyd(
  x: Float32Array,
  n: number,
  dim: number,
  centroids: Float64Array,
  maxIterations: number,
  tolerance: number,
): Promise<{ iterations: number; converged: boolean }> {
  const k = centroids.length / dim;
  const xNorm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = i * dim; j < (i + 1) * dim; j++) s += x[j] * x[j];
    xNorm[i] = s;
  }
  const ct = new Float32Array(dim * k); // centroids transposed: dim x k
  const cNorm = new Float64Array(k);
  const label = new Int32Array(n);
  const sums = new Float64Array(k * dim);
  const counts = new Float64Array(k);
  let iterations = 0;
  let converged = false;
  while (!converged && iterations < maxIterations) {
    iterations++;
    cNorm.fill(0);
    for (let c = 0; c < k; c++)
      for (let j = 0; j < dim; j++) {
        const f = Math.fround(centroids[c * dim + j]);
        ct[j * k + c] = f;
        cNorm[c] += f * f; // of the float32 values the product sees, so d is their distance
      }
    // chunks bound the n x k product (fit_rows may be large)
    for (let start = 0; start < n; start += CHUNK_ROWS) {
      const count = Math.min(CHUNK_ROWS, n - start);
      const dots = await gemm(x.subarray(start * dim, (start + count) * dim), ct, count, dim, k);
      for (let i = 0; i < count; i++) {
        const xn = xNorm[start + i];
        let best = 0;
        let bestD = Infinity;
        for (let c = 0; c < k; c++) {
          const d = xn - 2 * dots[i * k + c] + cNorm[c];
          if (d < bestD) {
            bestD = d;
            best = c;
          }
        }
        label[start + i] = best;
      }
    }
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const o = label[i] * dim;
      counts[label[i]]++;
      for (let j = 0; j < dim; j++) sums[o + j] += x[i * dim + j];
    }
    converged = true;
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) continue; // empty: keeps its centroid, moved 0
      let moved = 0;
      for (let j = 0; j < dim; j++) {
        const m = sums[c * dim + j] / counts[c];
        moved += (m - centroids[c * dim + j]) ** 2;
        centroids[c * dim + j] = m;
      }
      if (moved > tolerance) converged = false;
    }
  }
  return { iterations, converged };
}

/** Fits k centroids on the rows that have a vector (a seeded sample of them when many). */
export async function fitKMeans(v: Vectors, k: number, rng: Random, opts: KMeansOptions): Promise<KMeansModel> {
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
  const { dim } = v;
  const n = rows.length;
  const flat = new Float64Array(n * dim); // float64 for the seeding, as before
  rows.forEach((r, i) => readRow(v, r, flat, i * dim));
  const x = Float32Array.from(flat);
  const seeds = await kmeansPlusPlusRows(flat, x, n, dim, Math.min(k, n), rng);
  const centroids = new Float64Array(seeds.length * dim);
  seeds.forEach((s, c) => centroids.set(flat.subarray(s * dim, (s + 1) * dim), c * dim));
  const maxIterations = opts.maxIterations === 0 ? Infinity : opts.maxIterations; // 0: until converged, as ml-kmeans
  const { iterations, converged } = await lloyd(x, n, dim, centroids, maxIterations, opts.tolerance ?? 1e-6);
  return { k: seeds.length, dim, centroids, iterations, converged, fitted: n };
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
