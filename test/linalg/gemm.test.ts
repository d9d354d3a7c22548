import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { gemm, gemm64, gemmModel } from '../../core/linalg/gemm.ts';
import { createMatrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { blockVectors, presentRows, rowChunks } from '../../features/vectors.ts';

const { onnx } = onnxProto;

function randomF32(n: number, rng: Random): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** C = op(A)·B in float64, the plain way. */
function naive(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number, transA = false): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (transA ? a[p * m + i] : a[i * k + p]) * b[p * n + j];
      c[i * n + j] = s;
    }
  return c;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  expect(worst).toBeLessThan(tol);
}

describe('gemm', () => {
  it('matches a naive loop on odd sizes, plain and transposed, on subarray views', async () => {
    const rng = new Random(3);
    for (const [m, k, n] of [[1, 1, 1], [1, 7, 3], [5, 1, 9], [13, 37, 11], [129, 65, 33], [1001, 3, 2]]) {
      const pad = 5; // a view into a bigger buffer, as chunk buffers are passed
      const aBuf = randomF32(m * k + 2 * pad, rng);
      const a = aBuf.subarray(pad, pad + m * k);
      const b = randomF32(k * n, rng);
      expectClose(await gemm(a, b, m, k, n), naive(a, b, m, k, n), 1e-4 * Math.sqrt(k));
      // the same values read as an m x k matrix's transpose: (k x m) = aᵀ · (m x n)
      const bt = randomF32(m * n, rng);
      expectClose(await gemm(a, bt, k, m, n, true), naive(a, bt, k, m, n, true), 1e-4 * Math.sqrt(m));
    }
  });

  it('gives the same bytes on repeated calls, and zeros or empties for empty sizes', async () => {
    const rng = new Random(4);
    const a = randomF32(300 * 40, rng);
    const b = randomF32(40 * 17, rng);
    expect(Array.from(await gemm(a, b, 300, 40, 17))).toEqual(Array.from(await gemm(a, b, 300, 40, 17)));
    expect(Array.from(await gemm(new Float32Array(0), new Float32Array(0), 3, 0, 2))).toEqual([0, 0, 0, 0, 0, 0]);
    expect((await gemm(new Float32Array(0), b, 0, 40, 17)).length).toBe(0);
    await expect(gemm(a, b, 300, 41, 17)).rejects.toThrow(/values for 300 x 41/);
  });

  it('gemm64: the same products in float64, to float64 precision', async () => {
    const rng = new Random(9);
    const a = Float64Array.from({ length: 500 * 30 }, () => rng.normal());
    const b = Float64Array.from({ length: 30 * 7 }, () => rng.normal());
    expectClose(await gemm64(a, b, 500, 30, 7), naive(a, b, 500, 30, 7), 1e-12);
    const c = Float64Array.from({ length: 500 * 7 }, () => rng.normal());
    expectClose(await gemm64(a, c, 30, 500, 7, true), naive(a, c, 30, 500, 7, true), 1e-11);
    const elem = onnx.ModelProto.decode(gemmModel(true, 'float64')).graph!.output![0].type!.tensorType!.elemType;
    expect(elem).toBe(onnx.TensorProto.DataType.DOUBLE);
  });

  it('writes model bytes that onnx-proto decodes as a one-node Gemm graph', () => {
    for (const transA of [false, true]) {
      const model = onnx.ModelProto.decode(gemmModel(transA));
      expect(Number(model.irVersion)).toBe(7);
      expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13]]);
      const graph = model.graph!;
      expect(graph.node!.map((n) => [n.opType, n.input, n.output])).toEqual([['Gemm', ['a', 'b'], ['c']]]);
      expect(graph.node![0].attribute!.map((a) => [a.name, Number(a.i), a.type])).toEqual([['transA', transA ? 1 : 0, onnx.AttributeProto.AttributeType.INT]]);
      const dims = (v: onnxProto.onnx.IValueInfoProto) => v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam);
      expect(graph.input!.map((v) => [v.name, dims(v)])).toEqual([
        ['a', transA ? ['k', 'm'] : ['m', 'k']],
        ['b', ['k', 'n']],
      ]);
      expect(graph.output!.map((v) => [v.name, v.type!.tensorType!.elemType, dims(v)])).toEqual([['c', onnx.TensorProto.DataType.FLOAT, ['m', 'n']]]);
    }
  });

  it('row chunks of a block (chunk size not dividing the rows) times B give the naive product of the present, normalised rows', async () => {
    const rng = new Random(5);
    const rows = 53;
    const dim = 9;
    const names = [...Array.from({ length: dim }, (_, j) => `emb.e${j}`), 'emb.missing'];
    const m = createMatrix(rows, dim + 1, names);
    for (let r = 0; r < rows; r++) for (let j = 0; j < dim; j++) m.data[r * m.cols + j] = rng.normal() + 2;
    m.data[4 * m.cols + dim] = 1; // flagged
    m.data[20 * m.cols + 3] = NaN; // a NaN value
    const v = blockVectors(m, { normalize: true });
    const present = presentRows(v);
    expect(present.length).toBe(rows - 2);
    const b = randomF32(dim * 4, rng);
    // the reference: an explicit copy of the present rows, normalised in float64
    const x = new Float64Array(present.length * dim);
    present.forEach((r, i) => {
      let norm = 0;
      for (let j = 0; j < dim; j++) norm += m.data[r * m.cols + j] ** 2;
      for (let j = 0; j < dim; j++) x[i * dim + j] = m.data[r * m.cols + j] / Math.sqrt(norm);
    });
    const want = naive(x, b, present.length, dim, 4);
    for (const size of [1, 7, 16, 51, 1000]) {
      const got = new Float64Array(present.length * 4);
      for (const c of rowChunks(v, present, { size })) got.set(await gemm(c.data, b, c.count, dim, 4), c.start * 4);
      expectClose(got, want, 1e-5);
    }
  });
});
