import { describe, expect, it } from 'vitest';
import { createMatrix, type Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { hclust } from '../../features/hclust.ts';
import { at, fakeContext, fakeTable } from './fake-context.ts';

const DIM = 6;

/** Two far-apart super-clusters, each of three sub-clusters: labels at both levels. */
function nested(): { block: Matrix; sup: number[]; sub: number[] } {
  const rng = new Random(5);
  const supCentres = [0, 1].map(() => Array.from({ length: DIM }, () => rng.normal() * 20));
  const subCentres = supCentres.flatMap((c) => [0, 1, 2].map(() => c.map((x) => x + rng.normal() * 4)));
  const sup: number[] = [];
  const sub: number[] = [];
  const rows: number[][] = [];
  for (let i = 0; i < 240; i++) {
    const s = i % 6;
    sub.push(s);
    sup.push(Math.floor(s / 3));
    rows.push(subCentres[s].map((x) => x + rng.normal() * 0.3));
  }
  const block = createMatrix(rows.length, DIM, Array.from({ length: DIM }, (_, j) => `emb.e${j}`));
  rows.forEach((v, r) => block.data.set(v, r * DIM));
  return { block, sup, sub };
}

/** Every group of `fine` lies inside one group of `coarse`. */
function nestsIn(fine: ArrayLike<number>, coarse: ArrayLike<number>): boolean {
  const parent = new Map<number, number>();
  for (let r = 0; r < fine.length; r++) {
    if (Number.isNaN(fine[r])) continue;
    const p = parent.get(fine[r]);
    if (p === undefined) parent.set(fine[r], coarse[r]);
    else if (p !== coarse[r]) return false;
  }
  return true;
}

/** Each true label maps to a single id (the partition is at least as coarse as the truth's). */
function pure(truth: number[], ids: ArrayLike<number>): boolean {
  return nestsIn(truth, ids) && new Set(Array.from(ids)).size === new Set(truth).size;
}

const col = (m: Matrix, name: string) => Array.from({ length: m.rows }, (_, r) => at(m, r, name));

describe('hclust', () => {
  const { block, sup, sub } = nested();
  const table = fakeTable({ n: block.rows });

  it('cut levels recover the planted hierarchy and nest', async () => {
    const m = await hclust.compute(fakeContext(table, { emb: block }), hclust.params.parse({ k: 12, levels: [6, 2], leaf: true, normalize: false })) as Matrix;
    expect(m.names).toEqual(['hc2', 'hc6', 'hc_leaf12']);
    expect(m.categorical).toEqual([true, true, true]);
    const hc2 = col(m, 'hc2');
    const hc6 = col(m, 'hc6');
    const leaf = col(m, 'hc_leaf12');
    expect(pure(sup, hc2)).toBe(true);
    expect(pure(sub, hc6)).toBe(true);
    expect(nestsIn(hc6, hc2)).toBe(true);
    expect(nestsIn(leaf, hc6)).toBe(true);
    // groups numbered by descending size: both supers have 120 rows, so ids 0 and 1
    expect(new Set(hc2)).toEqual(new Set([0, 1]));
  });

  it('levels nest for every linkage, including non-monotone centroid linkage', async () => {
    const rng = new Random(9);
    const noise = createMatrix(200, 4, ['a', 'b', 'c', 'd']);
    for (let i = 0; i < noise.data.length; i++) noise.data[i] = rng.normal();
    const t = fakeTable({ n: 200 });
    const levels = [2, 3, 4, 5, 7, 9, 12, 15, 19];
    for (const method of ['ward', 'complete', 'average', 'single', 'centroid', 'median'] as const) {
      const m = await hclust.compute(fakeContext(t, { x: noise }), hclust.params.parse({ k: 20, levels, method, leaf: true, normalize: false })) as Matrix;
      const cols = [...levels.map((c) => col(m, `hc${c}`)), col(m, 'hc_leaf20')];
      levels.forEach((c, i) => expect(new Set(cols[i]).size, `${method} level ${c}`).toBe(c));
      for (let i = 0; i + 1 < cols.length; i++) expect(nestsIn(cols[i + 1], cols[i]), `${method} level ${levels[i + 1]} in ${levels[i]}`).toBe(true);
    }
  });

  it('is deterministic by seed and rejects levels not below k', async () => {
    const params = hclust.params.parse({ k: 12, levels: [2, 6], normalize: false });
    const a = await hclust.compute(fakeContext(table, { emb: block }, 3), params) as Matrix;
    const b = await hclust.compute(fakeContext(table, { emb: block }, 3), params) as Matrix;
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    await expect(hclust.compute(fakeContext(table, { emb: block }), hclust.params.parse({ k: 8, levels: [8] }))).rejects.toThrow(/fewer clusters than the k=8/);
  });
});
