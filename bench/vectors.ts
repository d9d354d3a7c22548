/**
 * @file `npm run bench:vectors`: seconds for the kinds that read an embedding block (pca,
 * kmeans, hclust, cross-modal) on a synthetic full-size block: 486,000 x 512 float32 plus a
 * `missing` flag column (every 997th row flagged, every 1009th row NaN). Run one kind per
 * process under `/usr/bin/time -v` for its peak RSS.
 *
 * Env: BENCH_ROWS (default 486000), BENCH_COLS (default 512), BENCH_KIND (pca | kmeans | hclust
 * | cross-modal; default pca), BENCH_COMPONENTS (pca, default 32), BENCH_K (kmeans, default 16).
 * The last line of output is one JSON object: kind, rows, cols, seconds.
 */
import { createMatrix, type Matrix } from '../core/matrix.ts';
import { pca } from '../features/pca.ts';
import { kmeansFeature } from '../features/kmeans.ts';
import { hclust } from '../features/hclust.ts';
import { crossModal } from '../features/cross-modal.ts';
import { fakeContext, fakeTable } from '../test/features/fake-context.ts';

const rows = Number(process.env.BENCH_ROWS ?? 486_000);
const cols = Number(process.env.BENCH_COLS ?? 512);
const kind = process.env.BENCH_KIND ?? 'pca';

/** Columns with decreasing spread and non-zero means (so centring and ordering matter). */
function block(id: string, seed: number): Matrix {
  const m = createMatrix(rows, cols + 1, [...Array.from({ length: cols }, (_, j) => `${id}.e${j}`), `${id}.missing`]);
  let s = seed >>> 0;
  for (let r = 0; r < rows; r++) {
    const o = r * m.cols;
    for (let j = 0; j < cols; j++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      m.data[o + j] = 0.01 * (j % 7) + (s / 4294967296 - 0.5) / (1 + j / 16);
    }
    if (r % 997 === 0) m.data[o + cols] = 1;
    if (r % 1009 === 0) m.data[o + 3] = NaN;
  }
  return m;
}

const t0 = performance.now();
const img = block('img', 1);
const table = fakeTable({ n: rows, uid: Array.from({ length: rows }, (_, i) => `u${i % 70_000}`) });
console.log(`vectors bench: ${kind} on ${rows} x ${cols} (+ missing flag); block built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const t = performance.now();
let out: Matrix;
if (kind === 'pca') out = await pca.compute(fakeContext(table, { img }), pca.params.parse({ components: Number(process.env.BENCH_COMPONENTS ?? 32) }));
else if (kind === 'kmeans') out = await kmeansFeature.compute(fakeContext(table, { img }), kmeansFeature.params.parse({ k: [Number(process.env.BENCH_K ?? 16)] }));
else if (kind === 'hclust') out = await hclust.compute(fakeContext(table, { img }), hclust.params.parse({ k: Number(process.env.BENCH_K ?? 16), levels: [4, 8] }));
else if (kind === 'cross-modal') {
  const tit = block('tit', 2);
  out = await crossModal.compute(fakeContext(table, { img, tit }), crossModal.params.parse({ image: 'img', title: 'tit', category: null }));
} else throw new Error(`unknown BENCH_KIND ${kind}`);
const seconds = (performance.now() - t) / 1000;
let sum = 0;
for (let i = 0; i < Math.min(out.data.length, 1e6); i++) if (Number.isFinite(out.data[i])) sum += Math.abs(out.data[i]);
console.log(`${kind}: ${seconds.toFixed(2)} s, ${out.cols} columns, checksum ${sum.toFixed(3)}`);
console.log(JSON.stringify({ kind, rows, cols, seconds: Number(seconds.toFixed(2)) }));
