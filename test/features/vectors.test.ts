import { describe, expect, it } from 'vitest';
import { createMatrix, takeRows, type Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { pca } from '../../features/pca.ts';
import { kmeansFeature } from '../../features/kmeans.ts';
import { crossModal } from '../../features/cross-modal.ts';
import { blockVectors, presentRows, readRow } from '../../features/vectors.ts';
import { fakeContext, fakeTable } from './fake-context.ts';

const N = 60;
const DIM = 6;
const FLAGGED = [3, 17];
const NAN_ROWS = [8, 41];
const ZERO_ROWS = [25];

/**
 * An embedding block as the runner passes it: float32, prefixed names, a `missing` flag
 * column and a categorical column (both not part of the vector), some rows flagged, some with
 * a NaN, one all zero.
 */
function dirty(id: string, seed: number): Matrix {
  const rng = new Random(seed);
  const centres = [0, 1, 2].map(() => Array.from({ length: DIM }, () => rng.normal() * 3 + 1));
  const names = [...Array.from({ length: DIM }, (_, j) => `${id}.e${j}`), `${id}.missing`, `${id}.kind`];
  const m = createMatrix(N, DIM + 2, names, [...new Array(DIM + 1).fill(false), true]);
  for (let r = 0; r < N; r++) {
    const o = r * m.cols;
    for (let j = 0; j < DIM; j++) m.data[o + j] = centres[r % 3][j] + rng.normal() * (1 + j / 4);
    m.data[o + DIM + 1] = r % 5;
    if (FLAGGED.includes(r)) m.data[o + DIM] = 1;
    if (NAN_ROWS.includes(r)) m.data[o + (r % DIM)] = NaN;
    if (ZERO_ROWS.includes(r)) m.data.fill(0, o, o + DIM);
  }
  return m;
}

const bad = new Set([...FLAGGED, ...NAN_ROWS, ...ZERO_ROWS]);
const good = Array.from({ length: N }, (_, r) => r).filter((r) => !bad.has(r));

/** The present rows' vector columns only: what the kinds must see of the dirty block. */
function clean(m: Matrix): Matrix {
  const rows = takeRows(m, good);
  const out = createMatrix(good.length, DIM, m.names.slice(0, DIM));
  for (let i = 0; i < good.length; i++) out.data.set(rows.data.subarray(i * m.cols, i * m.cols + DIM), i * DIM);
  return out;
}

/** Values of a kind's output on dirty rows are NaN; on present rows they equal the clean block's. */
function expectSameAsClean(d: Matrix, c: Matrix): void {
  expect(d.names).toEqual(c.names);
  for (const r of bad) for (let j = 0; j < d.cols; j++) expect(d.data[r * d.cols + j]).toBeNaN();
  const present = good.flatMap((r) => Array.from(d.data.subarray(r * d.cols, (r + 1) * d.cols)));
  expect(present).toEqual(Array.from(c.data));
}

// Outputs of the pre-chunking code (Float64 copies, JS loops) on dirty('img', 1), rows 0-2.
const BEFORE = {
  pca: [-1.086238, 1.456736, -0.9377449, -9.799137, -2.240733, 0.09954668, 3.663292, -2.661422, 0.6533891], // pc0-2
  kmeans: [2, 0.7693647, 0.9629261, 2, 0.271341, 1.314662, 0, 0.6821279, 1.050809], // km3, km3_d1, km3_d2
  cross: [0.5192002, 0.5565392, 0.8184475, 0.2558284, 0.1105872, 0.8305714, 0.1276907, 0.4520981, 0.750966], // cos, loo, spread
};

describe('vector kinds on a float32 block with a missing flag, NaN rows and an all-zero row', () => {
  const img = dirty('img', 1);
  const tit = dirty('tit', 2);
  const table = fakeTable({ n: N, uid: Array.from({ length: N }, (_, r) => `u${r % 7}`) });
  const cleanTable = fakeTable({ n: good.length, uid: good.map((r) => `u${r % 7}`) });

  it('the view: vector columns, missing rows and norms, read without a copy', () => {
    const v = blockVectors(img, { zeroIsMissing: true, normalize: true });
    expect(v.dim).toBe(DIM);
    expect(Array.from(v.cols)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(presentRows(v))).toEqual(good);
    expect(v.block.data).toBe(img.data);
    const row = new Float64Array(DIM);
    readRow(v, 0, row);
    expect(Math.hypot(...row)).toBeCloseTo(1, 12);
  });

  it('pca: missing rows NaN, the others as on the clean block, and as before', async () => {
    for (const params of [{ components: 3 }, { components: 4, normalize: true, whiten: true }]) {
      const p = pca.params.parse(params);
      const d = await pca.compute(fakeContext(table, { img }), p);
      const c = await pca.compute(fakeContext(cleanTable, { img: clean(img) }), p);
      expectSameAsClean(d, c);
    }
    const d = await pca.compute(fakeContext(table, { img }), pca.params.parse({ components: 3 }));
    Array.from(d.data.subarray(0, 9)).forEach((x, i) => expect(x).toBeCloseTo(BEFORE.pca[i], 4));
  });

  it('kmeans: missing rows NaN, the others as on the clean block, and as before', async () => {
    for (const normalize of [false, true]) {
      const p = kmeansFeature.params.parse({ k: [3, 5], n_dist: 2, normalize, fit_rows: 100 });
      const d = await kmeansFeature.compute(fakeContext(table, { img }), p);
      const c = await kmeansFeature.compute(fakeContext(cleanTable, { img: clean(img) }), p);
      expectSameAsClean(d, c);
    }
    const d = await kmeansFeature.compute(fakeContext(table, { img }), kmeansFeature.params.parse({ k: [3], n_dist: 2, normalize: true }));
    Array.from(d.data.subarray(0, 9)).forEach((x, i) => expect(x).toBeCloseTo(BEFORE.kmeans[i], 5));
  });

  it('cross-modal: missing rows NaN, the others as on the clean block, and as before', async () => {
    const p = crossModal.params.parse({ image: 'img', title: 'tit', category: null });
    const d = await crossModal.compute(fakeContext(table, { img, tit }), p);
    // bad rows of either block are NaN in the pair column; the user columns use image rows only
    const cosCol = d.names.indexOf('cos_image_title');
    for (const r of bad) expect(d.data[r * d.cols + cosCol]).toBeNaN();
    const c = await crossModal.compute(fakeContext(cleanTable, { img: clean(img), tit: clean(tit) }), p);
    good.forEach((r, i) => expect(d.data[r * d.cols + cosCol]).toBe(c.data[i * c.cols + cosCol]));
    Array.from(d.data.subarray(0, 9)).forEach((x, i) => expect(x).toBeCloseTo(BEFORE.cross[i], 5));
  });
});
