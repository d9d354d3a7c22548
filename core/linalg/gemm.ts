/**
 * @file One matrix product for the kinds that read big embedding blocks (pca, kmeans, hclust),
 * ridge and the randomized SVD behind them: C = A·B or Aᵀ·B, row-major, run by
 * onnxruntime-node's MLAS kernels (a one-node ONNX `Gemm` graph; about 25-55 GFLOP/s on 2
 * cores in float32 where a plain JS loop does 0.3-1). Callers feed row chunks of a block, so
 * no n x d copy is ever made. `gemm` is float32 (the blocks' type); `gemm64` is the same
 * product in float64, for the SVD's orthonormalisation where float32 would lose the basis.
 * The ONNX bytes are written here by hand (a handful of protobuf fields), so the kit needs no
 * protobuf library at run time.
 *
 * @example
 *   const c = await gemm(chunk, loadings, rows, dim, k); // rows x k = (rows x dim)·(dim x k)
 *   const g = await gemm(chunk, y, dim, rows, l, true);  // dim x l = (rows x dim)ᵀ·(rows x l)
 */
import ort from 'onnxruntime-node';

// ---------------------------------------------------------------- protobuf, just enough

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
/** Field `field` as a varint. */
const int = (field: number, n: number): number[] => [...varint(field * 8), ...varint(n)];
/** Field `field` as length-delimited bytes (a string or an embedded message). */
function bytes(field: number, body: number[] | string): number[] {
  const b = typeof body === 'string' ? Array.from(new TextEncoder().encode(body)) : body;
  return [...varint(field * 8 + 2), ...varint(b.length), ...b];
}

type Precision = 'float32' | 'float64';

/** ValueInfoProto: a float (or double) tensor with two named (symbolic) dimensions. */
function floatMatrixInfo(name: string, rows: string, cols: string, precision: Precision): number[] {
  const dim = (p: string) => bytes(1, bytes(2, p)); // TensorShapeProto.dim { dim_param }
  const tensorType = [...int(1, precision === 'float64' ? 11 /* DOUBLE */ : 1 /* FLOAT */), ...bytes(2, [...dim(rows), ...dim(cols)])];
  return [...bytes(1, name), ...bytes(2, bytes(1, tensorType))]; // name, type { tensor_type }
}

/** ModelProto of one `Gemm` node c = op(a)·b (opset 13), with symbolic sizes. */
export function gemmModel(transA: boolean, precision: Precision = 'float32'): Uint8Array {
  const node = [
    ...bytes(1, 'a'),
    ...bytes(1, 'b'),
    ...bytes(2, 'c'),
    ...bytes(4, 'Gemm'),
    ...bytes(5, [...bytes(1, 'transA'), ...int(3, transA ? 1 : 0), ...int(20, 2 /* INT */)]),
  ];
  const graph = [
    ...bytes(1, node),
    ...bytes(2, 'gemm'),
    ...bytes(11, floatMatrixInfo('a', transA ? 'k' : 'm', transA ? 'm' : 'k', precision)),
    ...bytes(11, floatMatrixInfo('b', 'k', 'n', precision)),
    ...bytes(12, floatMatrixInfo('c', 'm', 'n', precision)),
  ];
  // ir_version 7, graph, opset_import { domain "", version 13 }
  return Uint8Array.from([...int(1, 7), ...bytes(7, graph), ...bytes(8, [...bytes(1, ''), ...int(2, 13)])]);
}

// ---------------------------------------------------------------- the product

const sessions = new Map<string, Promise<ort.InferenceSession>>();

function session(transA: boolean, precision: Precision): Promise<ort.InferenceSession> {
  const key = `${transA}:${precision}`;
  let s = sessions.get(key);
  if (!s) {
    s = ort.InferenceSession.create(gemmModel(transA, precision), {
      graphOptimizationLevel: 'all',
      interOpNumThreads: 1,
      // no busy-waiting between runs: the JS that gathers the next chunk needs the core
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    sessions.set(key, s);
  }
  return s;
}

async function product<A extends Float32Array | Float64Array>(precision: Precision, a: A, b: A, m: number, k: number, n: number, transA: boolean, empty: (n: number) => A): Promise<A> {
  if (a.length !== m * k || b.length !== k * n) throw new Error(`gemm: ${a.length} and ${b.length} values for ${m} x ${k} and ${k} x ${n}`);
  if (m === 0 || n === 0 || k === 0) return empty(m * n);
  const s = await session(transA, precision);
  const out = await s.run({
    a: new ort.Tensor(precision, a, transA ? [k, m] : [m, k]),
    b: new ort.Tensor(precision, b, [k, n]),
  });
  return out.c.data as A;
}

/**
 * C (m x n) = A·B, with A m x k, or Aᵀ·B with A k x m when `transA`; B is k x n. All float32,
 * row-major, exactly of those lengths (pass `subarray` views of reused chunk buffers).
 * MLAS accumulates in float32; the result is the same bytes for the same inputs.
 */
export function gemm(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA = false): Promise<Float32Array> {
  return product('float32', a, b, m, k, n, transA, (len) => new Float32Array(len));
}

/** The same product in float64 (MLAS double kernels). */
export function gemm64(a: Float64Array, b: Float64Array, m: number, k: number, n: number, transA = false): Promise<Float64Array> {
  return product('float64', a, b, m, k, n, transA, (len) => new Float64Array(len));
}
