import { describe, expect, it } from 'vitest';
import { createMatrix, type Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { kmeansFeature } from '../../features/kmeans.ts';
import { kmeansPlusPlusRows } from '../../features/kmeans-fit.ts';
import { at, fakeContext, fakeTable } from './fake-context.ts';

const DIM = 8;
const PER = 60;

/** Three Gaussian blobs far apart (planted labels), then two all-zero (missing) rows. */
function planted(): { block: Matrix; truth: number[] } {
  const rng = new Random(11);
  const centres = [0, 1, 2].map(() => Array.from({ length: DIM }, () => rng.normal() * 5));
  const truth: number[] = [];
  const rows: number[][] = [];
  for (let i = 0; i < 3 * PER; i++) {
    const c = i % 3; // interleaved, so sampling and order do not line up with clusters
    truth.push(c);
    rows.push(centres[c].map((x) => x + rng.normal() * 0.3));
  }
  rows.push(new Array(DIM).fill(0), new Array(DIM).fill(0));
  const block = createMatrix(rows.length, DIM, Array.from({ length: DIM }, (_, j) => `emb.e${j}`));
  rows.forEach((v, r) => block.data.set(v, r * DIM));
  return { block, truth };
}

describe('kmeans', () => {
  const { block, truth } = planted();
  const table = fakeTable({ n: block.rows });
  const params = kmeansFeature.params.parse({ k: [3, 5], n_dist: 2, normalize: false, fit_rows: 100 });
  const run = async (seed: number) => (await kmeansFeature.compute(fakeContext(table, { emb: block }, seed), params)) as Matrix;

  it('recovers planted clusters (fitted on a 100-row sample, all rows assigned)', async () => {
    const m = await run(7);
    expect(m.names).toEqual(['km3', 'km3_d1', 'km3_d2', 'km5', 'km5_d1', 'km5_d2']);
    expect(m.categorical).toEqual([true, false, false, true, false, false]);
    const idOf = new Map<number, number>();
    for (let r = 0; r < truth.length; r++) {
      const id = at(m, r, 'km3');
      if (!idOf.has(truth[r])) idOf.set(truth[r], id);
      expect(id).toBe(idOf.get(truth[r])); // one id per planted cluster...
    }
    expect(new Set(idOf.values()).size).toBe(3); // ...and distinct ids
    for (let r = 0; r < truth.length; r++) {
      expect(at(m, r, 'km3_d1')).toBeLessThan(2); // near its centroid (noise sd 0.3 in 8 dims)
      expect(at(m, r, 'km3_d2')).toBeGreaterThan(at(m, r, 'km3_d1'));
      expect(at(m, r, 'km5_d2')).toBeGreaterThanOrEqual(at(m, r, 'km5_d1'));
    }
  });

  it('is deterministic for a seed; another seed samples other rows but finds the same planted clusters', async () => {
    const first = await run(7);
    expect(Array.from((await run(7)).data)).toEqual(Array.from(first.data));
    const other = await run(8);
    // Another 100-row fitting sample moves the centroids: the distances differ...
    expect(Array.from(other.data)).not.toEqual(Array.from(first.data));
    // ...but each planted cluster still maps to one id (the ids may be permuted).
    const idMap = new Map<number, number>();
    for (let r = 0; r < truth.length; r++) {
      const [a, b] = [at(first, r, 'km3'), at(other, r, 'km3')];
      if (!idMap.has(a)) idMap.set(a, b);
      expect(b).toBe(idMap.get(a));
    }
    expect(new Set(idMap.values()).size).toBe(3);
  });

  it('gives missing (all-zero) rows NaN', async () => {
    const m = await run(7);
    for (const r of [block.rows - 2, block.rows - 1]) for (let c = 0; c < m.cols; c++) expect(m.data[r * m.cols + c]).toBeNaN();
  });

  it('names the block to read when several inputs are given', async () => {
    await expect(kmeansFeature.compute(fakeContext(table, { emb: block, other: block }), params)).rejects.toThrow(/name the one to read with params.input/);
    const m = await kmeansFeature.compute(fakeContext(table, { emb: block, other: block }), { ...params, input: 'other', k: [3] }) as Matrix;
    expect(m.cols).toBe(3);
  });

  it('fits fewer clusters than k when fewer distinct rows exist, without failing', async () => {
    const few = createMatrix(12, 2, ['a', 'b']);
    for (let r = 0; r < 12; r++) few.data.set(r % 2 ? [1, 2] : [3, -1], r * 2);
    const ctx = fakeContext(fakeTable({ n: 12 }), { few });
    const m = await kmeansFeature.compute(ctx, kmeansFeature.params.parse({ k: [5], n_dist: 3, normalize: false })) as Matrix;
    const ids = new Set(Array.from({ length: 12 }, (_, r) => at(m, r, 'km5')));
    expect(ids.size).toBe(2);
    for (let r = 0; r < 12; r++) {
      expect(at(m, r, 'km5_d1')).toBeCloseTo(0, 6);
      expect(at(m, r, 'km5_d3')).toBeNaN(); // only two centroids
    }
  });
});

/** Straightforward k-means++ in float64 (every distance exact): the reference of kmeansPlusPlusRows. */
function kmeansPlusPlus(points: number[][], k: number, rng: Random): number[][] {
  const sq = (a: number[], b: number[]) => a.reduce((s, v, j) => s + (v - b[j]) ** 2, 0);
  const chosen = [rng.int(points.length)];
  const d2 = points.map((p) => sq(p, points[chosen[0]]));
  while (chosen.length < k) {
    const total = d2.reduce((s, v) => s + v, 0);
    if (total <= 0) break;
    let target = rng.next() * total;
    let pick = -1;
    let last = -1;
    for (let i = 0; i < d2.length && pick < 0; i++) {
      if (d2[i] <= 0) continue;
      last = i;
      target -= d2[i];
      if (target < 0) pick = i;
    }
    if (pick < 0) pick = last;
    chosen.push(pick);
    points.forEach((p, i) => (d2[i] = Math.min(d2[i], sq(p, points[pick]))));
  }
  return chosen.map((i) => points[i].slice());
}

describe('kmeansPlusPlusRows', () => {
  it('picks exactly the seeds of a plain float64 k-means++ (float32 pruning never changes a distance)', async () => {
    // x, a copy of it and a point 1e-9 away: float32 cannot tell them apart, yet once the near one
    // is a seed, picking the copy must set x's distance to exactly 0, or with k = n x would be
    // drawn as one more seed
    const rng = new Random(3);
    const dim = 48;
    const points: number[][] = [];
    for (let t = 0; t < 300; t++) {
      const x = Array.from({ length: dim }, () => rng.normal() / Math.sqrt(dim));
      const near = x.slice();
      near[t % dim] += 1e-9;
      points.push(x, near, x.slice());
    }
    const flat = Float64Array.from(points.flat());
    for (const k of [2, 150, points.length]) {
      const want = kmeansPlusPlus(points, k, new Random(k));
      const got = await kmeansPlusPlusRows(flat, Float32Array.from(flat), points.length, dim, k, new Random(k));
      expect(got.map((i) => points[i])).toEqual(want);
    }
  });
});
