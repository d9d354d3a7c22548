/**
 * @file A small ONNX graph builder with reverse-mode differentiation, for training on
 * onnxruntime-node. Ops record themselves on a tape with static shapes (-1 = a dynamic
 * dimension, e.g. the batch); `gradients(loss, wrt)` walks the tape backwards and emits the
 * gradient nodes into the same graph, so one ONNX model holds forward, loss, backward and (see
 * optim.ts) the optimizer update. `toModel()` encodes it with `onnx-proto` (opset 17).
 *
 * Differentiable ops: Add, Sub, Mul, Div, Neg, MatMul, Gemm, Relu, LeakyRelu, Elu, Selu, Tanh,
 * Sigmoid, Softplus, Erf, Exp, Log, Abs, Sqrt, Clip, Softmax, ReduceSum, ReduceMean, Gather
 * (embeddings; gradient by ScatterND with reduction add), Concat, Slice, Reshape, Transpose,
 * Identity, Max, Min. Other ops (Sign, Greater, Where, Cast, ...) are for gradients and masks only.
 *
 * @example
 *   const g = new Graph();
 *   const x = g.input('x', [-1, 3]);
 *   const w = g.input('w', [3, 1]);
 *   const loss = g.reduceMean(g.square(g.matmul(x, w)), [0, 1], false);
 *   const [dw] = g.gradients(loss, [w]);
 *   g.output(loss, 'loss'); g.output(dw, 'dw');
 *   const bytes = g.toModel();
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;
type IAttr = onnxProto.onnx.IAttributeProto;

export type DType = 'float32' | 'int32' | 'int64' | 'bool';

const ONNX_TYPE: Record<DType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** A symbolic tensor: its name in the graph, static shape (-1 = dynamic) and element type. */
export interface T {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** Attribute values: numbers are ints unless wrapped with `float()`. */
export type AttrValue = number | { f: number } | number[] | string;
export type Attrs = Record<string, AttrValue>;

export const float = (f: number) => ({ f });

interface Rec {
  op: string;
  inputs: (T | null)[];
  outputs: T[];
  attrs: Attrs;
  /** Static facts a gradient rule needs that are inputs in ONNX (reduce axes, slice bounds). */
  meta?: unknown;
}

/** dy of the single output -> one gradient (or null) per input; `need[k]` says whether input k wants one. */
type GradRule = (g: Graph, r: Rec, dy: T, need: boolean[]) => (T | null)[];

function encodeAttr(name: string, v: AttrValue): IAttr {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, i: v, type: A.INT };
  if (typeof v === 'string') return { name, s: new TextEncoder().encode(v), type: A.STRING };
  if (Array.isArray(v)) return { name, ints: v, type: A.INTS };
  return { name, f: v.f, type: A.FLOAT };
}

/** Numpy-style broadcast of two static shapes (-1 matches anything but a conflicting size). */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else if (da === -1 || db === -1) out.push(Math.max(da, db));
    else throw new Error(`graph: cannot broadcast [${a}] with [${b}]`);
  }
  return out;
}

const prod = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

export class Graph {
  readonly opset = 17;
  private readonly nodes: INode[] = [];
  private readonly inits: ITensor[] = [];
  private readonly tape: Rec[] = [];
  private readonly ins: T[] = [];
  private readonly outs: T[] = [];
  private readonly consts = new Map<string, T>();
  private count = 0;

  // ------------------------------------------------------------------ plumbing

  /** A graph input; shape -1 marks dynamic dimensions. */
  input(name: string, shape: readonly number[], dtype: DType = 'float32'): T {
    const t = { name, shape: [...shape], dtype };
    this.ins.push(t);
    return t;
  }

  /** Names t as a graph output (through Identity; toModel folds it away where it can). */
  output(t: T, name: string): T {
    const out = { name, shape: t.shape, dtype: t.dtype };
    this.nodes.push({ opType: 'Identity', input: [t.name], output: [name], name: `Identity_${name}` });
    this.outs.push(out);
    return out;
  }

  /**
   * The nodes with each output's Identity folded into the node that computes the value (renamed
   * to the output's name), so the runtime writes the output in place instead of copying it.
   * Kept where the value is a graph input or constant, or feeds more than one output.
   */
  private foldedNodes(): INode[] {
    const outNames = new Set(this.outs.map((o) => o.name));
    const copies = this.nodes.filter((n) => n.opType === 'Identity' && n.name === `Identity_${n.output![0]}` && outNames.has(n.output![0]));
    const produced = new Set(this.nodes.flatMap((n) => (n.opType === 'Identity' && copies.includes(n) ? [] : (n.output ?? []))));
    const uses = new Map<string, number>();
    for (const n of copies) uses.set(n.input![0], (uses.get(n.input![0]) ?? 0) + 1);
    const rename = new Map<string, string>();
    const folded = new Set<INode>();
    for (const n of copies) {
      const src = n.input![0];
      if (produced.has(src) && uses.get(src) === 1) {
        rename.set(src, n.output![0]);
        folded.add(n);
      }
    }
    const to = (x: string) => rename.get(x) ?? x;
    return this.nodes.filter((n) => !folded.has(n)).map((n) => ({ ...n, input: (n.input ?? []).map(to), output: (n.output ?? []).map(to) }));
  }

  /** Emits one node; outputs get fresh names. Recorded on the tape for differentiation. */
  emit(op: string, inputs: (T | null)[], outs: { shape: readonly number[]; dtype?: DType }[], attrs: Attrs = {}): T[] {
    const outputs = outs.map((o) => ({ name: `${op.toLowerCase()}_${this.count++}`, shape: [...o.shape], dtype: o.dtype ?? 'float32' }));
    this.nodes.push({
      opType: op,
      input: inputs.map((t) => (t ? t.name : '')),
      output: outputs.map((t) => t.name),
      name: outputs[0].name,
      attribute: Object.entries(attrs).map(([k, v]) => encodeAttr(k, v)),
    });
    this.tape.push({ op, inputs, outputs, attrs });
    return outputs;
  }

  private one(op: string, inputs: (T | null)[], shape: readonly number[], attrs: Attrs = {}, dtype?: DType): T {
    return this.emit(op, inputs, [{ shape, dtype }], attrs)[0];
  }

  /** A constant (an initializer), cached by value for scalars and small int vectors. */
  constant(data: Float32Array | Int32Array | BigInt64Array, shape: readonly number[]): T {
    const dtype: DType = data instanceof Float32Array ? 'float32' : data instanceof Int32Array ? 'int32' : 'int64';
    const key = data.length <= 16 ? `${dtype}[${shape}]:${Array.from(data as ArrayLike<number | bigint>).join(',')}` : '';
    const hit = key ? this.consts.get(key) : undefined;
    if (hit) return hit;
    const t = { name: `const_${this.count++}`, shape: [...shape], dtype };
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.inits.push({ name: t.name, dims: [...shape], dataType: ONNX_TYPE[dtype], rawData: bytes });
    if (key) this.consts.set(key, t);
    return t;
  }

  scalar(v: number): T {
    return this.constant(Float32Array.of(v), []);
  }

  ints(values: readonly number[]): T {
    return this.constant(BigInt64Array.from(values.map((v) => BigInt(v))), [values.length]);
  }

  /** Encodes the graph as an ONNX model (opset 17). */
  toModel(name = 'smp_kit_nn'): Uint8Array {
    const vi = (t: T): onnxProto.onnx.IValueInfoProto => ({
      name: t.name,
      type: {
        tensorType: {
          elemType: ONNX_TYPE[t.dtype],
          shape: { dim: t.shape.map((d, i) => (d >= 0 ? { dimValue: d } : { dimParam: `d${i}` })) },
        },
      },
    });
    return onnx.ModelProto.encode({
      irVersion: 8,
      opsetImport: [{ domain: '', version: this.opset }],
      producerName: 'smp-kit',
      graph: { name, node: this.foldedNodes(), initializer: this.inits, input: this.ins.map(vi), output: this.outs.map(vi) },
    }).finish();
  }

  // ------------------------------------------------------------------ differentiable ops

  private binary(op: string, a: T, b: T): T {
    return this.one(op, [a, b], broadcastShape(a.shape, b.shape));
  }
  add(a: T, b: T): T {
    return this.binary('Add', a, b);
  }
  sub(a: T, b: T): T {
    return this.binary('Sub', a, b);
  }
  mul(a: T, b: T): T {
    return this.binary('Mul', a, b);
  }
  div(a: T, b: T): T {
    return this.binary('Div', a, b);
  }
  square(x: T): T {
    return this.mul(x, x);
  }
  private unary(op: string, x: T, attrs: Attrs = {}): T {
    return this.one(op, [x], x.shape, attrs, x.dtype);
  }
  neg(x: T): T {
    return this.unary('Neg', x);
  }
  relu(x: T): T {
    return this.unary('Relu', x);
  }
  leakyRelu(x: T, alpha = 0.01): T {
    return this.unary('LeakyRelu', x, { alpha: float(alpha) });
  }
  elu(x: T, alpha = 1): T {
    return this.unary('Elu', x, { alpha: float(alpha) });
  }
  /** Selu with ONNX's default alpha and gamma (those of Klambauer et al.). */
  selu(x: T): T {
    return this.unary('Selu', x);
  }
  tanh(x: T): T {
    return this.unary('Tanh', x);
  }
  sigmoid(x: T): T {
    return this.unary('Sigmoid', x);
  }
  softplus(x: T): T {
    return this.unary('Softplus', x);
  }
  erf(x: T): T {
    return this.unary('Erf', x);
  }
  exp(x: T): T {
    return this.unary('Exp', x);
  }
  log(x: T): T {
    return this.unary('Log', x);
  }
  abs(x: T): T {
    return this.unary('Abs', x);
  }
  sqrt(x: T): T {
    return this.unary('Sqrt', x);
  }
  identity(x: T): T {
    return this.unary('Identity', x);
  }
  clip(x: T, lo: number, hi: number): T {
    return this.one('Clip', [x, this.scalar(lo), this.scalar(hi)], x.shape);
  }
  softmax(x: T, axis = -1): T {
    return this.unary('Softmax', x, { axis });
  }
  /** [n, k] x [k, m]. */
  matmul(a: T, b: T): T {
    if (a.shape.length !== 2 || b.shape.length !== 2) throw new Error('graph: matmul takes 2-D operands');
    return this.one('MatMul', [a, b], [a.shape[0], b.shape[1]]);
  }
  /** alpha * op(a) op(b) + beta * c (c broadcast to the product's shape). */
  gemm(a: T, b: T, c: T | null, o: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {}): T {
    const m = o.transA ? a.shape[1] : a.shape[0];
    const n = o.transB ? b.shape[0] : b.shape[1];
    const attrs: Attrs = { transA: o.transA ? 1 : 0, transB: o.transB ? 1 : 0, alpha: float(o.alpha ?? 1), beta: float(o.beta ?? 1) };
    return this.one('Gemm', c ? [a, b, c] : [a, b], [m, n], attrs);
  }
  private reduce(op: string, x: T, axes: number[], keepdims: boolean): T {
    const ax = axes.map((a) => (a < 0 ? a + x.shape.length : a));
    const shape = keepdims ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
    // ReduceSum takes axes as an input from opset 13, ReduceMean from opset 18.
    if (op === 'ReduceMean') return this.one(op, [x], shape, { axes: ax, keepdims: keepdims ? 1 : 0 });
    const out = this.one(op, [x, this.ints(ax)], shape, { keepdims: keepdims ? 1 : 0 });
    this.tape[this.tape.length - 1].meta = ax;
    return out;
  }
  reduceSum(x: T, axes: number[], keepdims = true): T {
    return this.reduce('ReduceSum', x, axes, keepdims);
  }
  reduceMean(x: T, axes: number[], keepdims = true): T {
    return this.reduce('ReduceMean', x, axes, keepdims);
  }
  /** Rows of table (axis 0) at integer indices (any shape). */
  gather(table: T, idx: T): T {
    return this.one('Gather', [table, idx], [...idx.shape, ...table.shape.slice(1)], { axis: 0 });
  }
  concat(ts: T[], axis: number): T {
    const ax = axis < 0 ? axis + ts[0].shape.length : axis;
    const shape = [...ts[0].shape];
    shape[ax] = ts.some((t) => t.shape[ax] < 0) ? -1 : ts.reduce((s, t) => s + t.shape[ax], 0);
    return this.one('Concat', ts, shape, { axis: ax });
  }
  /** Static slice: starts/ends per listed axis, step 1. */
  slice(x: T, starts_: number[], ends_: number[], axes: number[]): T {
    const starts = [...starts_];
    const ends = [...ends_];
    const shape = [...x.shape];
    axes.forEach((a, i) => {
      const d = x.shape[a];
      if (d < 0) throw new Error('graph: slice needs a static dimension');
      const s = Math.max(0, Math.min(d, starts[i] < 0 ? starts[i] + d : starts[i]));
      const e = Math.max(s, Math.min(d, ends[i] < 0 ? ends[i] + d : ends[i]));
      starts[i] = s;
      ends[i] = e;
      shape[a] = e - s;
    });
    const out = this.one('Slice', [x, this.ints(starts), this.ints(ends), this.ints(axes)], shape);
    this.tape[this.tape.length - 1].meta = { starts, ends, axes };
    return out;
  }
  /** Reshape to a static shape (one -1 allowed, resolved at run time). */
  reshape(x: T, shape: number[]): T {
    return this.one('Reshape', [x, this.ints(shape)], shape, {}, x.dtype);
  }
  transpose(x: T, perm: number[]): T {
    return this.one('Transpose', [x], perm.map((p) => x.shape[p]), { perm }, x.dtype);
  }

  // ------------------------------------------------------------------ non-differentiable helpers

  cast(x: T, to: DType): T {
    return this.one('Cast', [x], x.shape, { to: ONNX_TYPE[to] }, to);
  }
  sign(x: T): T {
    return this.unary('Sign', x);
  }
  greater(a: T, b: T): T {
    return this.one('Greater', [a, b], broadcastShape(a.shape, b.shape), {}, 'bool');
  }
  less(a: T, b: T): T {
    return this.one('Less', [a, b], broadcastShape(a.shape, b.shape), {}, 'bool');
  }
  and(a: T, b: T): T {
    return this.one('And', [a, b], broadcastShape(a.shape, b.shape), {}, 'bool');
  }
  where(c: T, a: T, b: T): T {
    return this.one('Where', [c, a, b], broadcastShape(c.shape, broadcastShape(a.shape, b.shape)));
  }
  max(a: T, b: T): T {
    return this.binary('Max', a, b);
  }
  min(a: T, b: T): T {
    return this.binary('Min', a, b);
  }
  shapeOf(x: T): T {
    return this.one('Shape', [x], [x.shape.length], {}, 'int64');
  }
  sizeOf(x: T): T {
    return this.one('Size', [x], [], {}, 'int64');
  }
  expand(x: T, shape: T, staticShape: readonly number[]): T {
    return this.one('Expand', [x, shape], staticShape, {}, x.dtype);
  }
  unsqueeze(x: T, axes: number[]): T {
    const rank = x.shape.length + axes.length;
    const ax = axes.map((a) => (a < 0 ? a + rank : a));
    const shape: number[] = [];
    for (let i = 0, j = 0; i < rank; i++) shape.push(ax.includes(i) ? 1 : x.shape[j++]);
    return this.one('Unsqueeze', [x, this.ints(ax)], shape, {}, x.dtype);
  }

  // ------------------------------------------------------------------ differentiation

  /** Sums dy over the axes it was broadcast along, to x's shape. */
  unbroadcast(dy: T, like: readonly number[]): T {
    const lead = dy.shape.length - like.length;
    const axes: number[] = [];
    dy.shape.forEach((d, i) => {
      if (i < lead || (like[i - lead] === 1 && d !== 1)) axes.push(i);
    });
    if (!axes.length) return dy;
    const s = this.reduceSum(dy, axes, true);
    return lead ? this.reshape(s, [...like]) : s;
  }

  /**
   * Gradients of the scalar `loss` with respect to each of `wrt`, as new nodes in this graph.
   * A tensor loss does not depend on gets a zero of its shape.
   */
  gradients(loss: T, wrt: T[]): T[] {
    const tape = this.tape.slice();
    // Forward pass: which tensors depend on wrt.
    const live = new Set(wrt.map((t) => t.name));
    for (const r of tape) if (r.inputs.some((t) => t && live.has(t.name))) for (const o of r.outputs) live.add(o.name);
    const grads = new Map<string, T>([[loss.name, this.constant(Float32Array.of(1), loss.shape.map(() => 1))]]);
    const accumulate = (t: T, d: T) => {
      const prev = grads.get(t.name);
      grads.set(t.name, prev ? this.add(prev, d) : d);
    };
    for (let i = tape.length - 1; i >= 0; i--) {
      const r = tape[i];
      const dys = r.outputs.map((o) => grads.get(o.name));
      if (dys.every((d) => !d) || !r.inputs.some((t) => t && live.has(t.name))) continue;
      const rule = RULES[r.op];
      if (!rule || r.outputs.length !== 1) throw new Error(`graph: no gradient rule for ${r.op}`);
      const need = r.inputs.map((t) => !!t && live.has(t.name) && t.dtype === 'float32');
      rule(this, r, dys[0]!, need).forEach((d, k) => {
        const t = r.inputs[k];
        if (d && t && live.has(t.name) && t.dtype === 'float32') accumulate(t, d);
      });
    }
    return wrt.map((t) => grads.get(t.name) ?? this.constant(new Float32Array(prod(t.shape)), t.shape));
  }
}

const SQRT_2_OVER_PI = 2 / Math.sqrt(Math.PI);
const SELU_ALPHA = 1.6732632423543772;
const SELU_GAMMA = 1.0507009873554805;

function attrNum(v: AttrValue | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  return typeof v === 'number' ? v : (v as { f: number }).f;
}

/** Gradient rules: dy of the single output -> one gradient (or null) per input. */
const RULES: Record<string, GradRule> = {
  Identity: (_g, _r, dy) => [dy],
  Add: (g, r, dy, need) => [need[0] ? g.unbroadcast(dy, r.inputs[0]!.shape) : null, need[1] ? g.unbroadcast(dy, r.inputs[1]!.shape) : null],
  // Negations and scalings go after the sum over broadcast axes (on the smaller tensor).
  Sub: (g, r, dy, need) => [need[0] ? g.unbroadcast(dy, r.inputs[0]!.shape) : null, need[1] ? g.neg(g.unbroadcast(dy, r.inputs[1]!.shape)) : null],
  Mul: (g, r, dy, need) => {
    const [a, b] = r.inputs as T[];
    if (a.name === b.name) return [g.mul(g.mul(dy, a), g.scalar(2)), null]; // x * x: one gradient, 2 x dy
    return [need[0] ? g.unbroadcast(g.mul(dy, b), a.shape) : null, need[1] ? g.unbroadcast(g.mul(dy, a), b.shape) : null];
  },
  Div: (g, r, dy, need) => {
    const [a, b] = r.inputs as T[];
    const y = r.outputs[0];
    return [need[0] ? g.unbroadcast(g.div(dy, b), a.shape) : null, need[1] ? g.neg(g.unbroadcast(g.div(g.mul(dy, y), b), b.shape)) : null];
  },
  Neg: (g, _r, dy) => [g.neg(dy)],
  // Ties go to the first operand.
  Max: (g, r, dy) => pick(g, r, dy, g.less(r.inputs[0]!, r.inputs[1]!)),
  Min: (g, r, dy) => pick(g, r, dy, g.greater(r.inputs[0]!, r.inputs[1]!)),
  Relu: (g, r, dy) => [g.mul(dy, g.sign(r.outputs[0]))],
  LeakyRelu: (g, r, dy) => {
    const x = r.inputs[0]!;
    return [g.mul(dy, g.where(g.greater(x, g.scalar(0)), g.scalar(1), g.scalar(attrNum(r.attrs.alpha, 0.01))))];
  },
  Elu: (g, r, dy) => {
    const x = r.inputs[0]!;
    const slope = g.where(g.greater(x, g.scalar(0)), g.scalar(1), g.add(r.outputs[0], g.scalar(attrNum(r.attrs.alpha, 1))));
    return [g.mul(dy, slope)];
  },
  Selu: (g, r, dy) => {
    const x = r.inputs[0]!;
    const slope = g.where(g.greater(x, g.scalar(0)), g.scalar(SELU_GAMMA), g.add(r.outputs[0], g.scalar(SELU_GAMMA * SELU_ALPHA)));
    return [g.mul(dy, slope)];
  },
  Tanh: (g, r, dy) => [g.mul(dy, g.sub(g.scalar(1), g.square(r.outputs[0])))],
  Sigmoid: (g, r, dy) => {
    const y = r.outputs[0];
    return [g.mul(dy, g.mul(y, g.sub(g.scalar(1), y)))];
  },
  Softplus: (g, r, dy) => [g.mul(dy, g.sigmoid(r.inputs[0]!))],
  Erf: (g, r, dy) => {
    const x = r.inputs[0]!;
    return [g.mul(dy, g.mul(g.scalar(SQRT_2_OVER_PI), g.exp(g.neg(g.square(x)))))];
  },
  Exp: (g, r, dy) => [g.mul(dy, r.outputs[0])],
  Log: (g, r, dy) => [g.div(dy, r.inputs[0]!)],
  Abs: (g, r, dy) => [g.mul(dy, g.sign(r.inputs[0]!))],
  Sqrt: (g, r, dy) => [g.div(dy, g.mul(r.outputs[0], g.scalar(2)))],
  Clip: (g, r, dy) => {
    const [x, lo, hi] = r.inputs as T[];
    return [g.mul(dy, g.cast(g.and(g.greater(x, lo), g.less(x, hi)), 'float32')), null, null];
  },
  Softmax: (g, r, dy) => {
    const y = r.outputs[0];
    const axis = attrNum(r.attrs.axis, -1);
    return [g.mul(y, g.sub(dy, g.reduceSum(g.mul(dy, y), [axis], true)))];
  },
  MatMul: (g, r, dy, need) => {
    const [a, b] = r.inputs as T[];
    return [need[0] ? g.gemm(dy, b, null, { transB: true }) : null, need[1] ? g.gemm(a, dy, null, { transA: true }) : null];
  },
  Gemm: (g, r, dy, need) => {
    const [a, b, c] = r.inputs as T[];
    const tA = attrNum(r.attrs.transA, 0) === 1;
    const tB = attrNum(r.attrs.transB, 0) === 1;
    const alpha = attrNum(r.attrs.alpha, 1);
    const beta = attrNum(r.attrs.beta, 1);
    // d op(A) = alpha dy op(B)^T, d op(B) = alpha op(A)^T dy; transpose back where stored transposed.
    const da = !need[0] ? null : tA ? g.gemm(b, dy, null, { transA: tB, transB: true, alpha }) : g.gemm(dy, b, null, { transB: !tB, alpha });
    const db = !need[1] ? null : tB ? g.gemm(dy, a, null, { transA: true, transB: tA, alpha }) : g.gemm(a, dy, null, { transA: !tA, alpha });
    const dc = c && need[2] ? g.unbroadcast(beta === 1 ? dy : g.mul(dy, g.scalar(beta)), c.shape) : null;
    return [da, db, dc];
  },
  ReduceSum: (g, r, dy) => [spread(g, r, dy)],
  ReduceMean: (g, r, dy) => {
    const x = r.inputs[0]!;
    const y = r.outputs[0];
    const static_ = x.shape.every((s) => s >= 0);
    const ratio = static_
      ? g.scalar(prod(y.shape) / prod(x.shape))
      : g.div(g.cast(g.sizeOf(y), 'float32'), g.cast(g.sizeOf(x), 'float32'));
    return [spread(g, r, g.mul(dy, ratio))]; // scaled before it is spread: fewer elements
  },
  Gather: (g, r, dy) => {
    const [table, idx] = r.inputs as T[];
    const zeros = g.emit('ConstantOfShape', [g.shapeOf(table)], [{ shape: table.shape }], {})[0];
    const at = g.unsqueeze(idx.dtype === 'int64' ? idx : g.cast(idx, 'int64'), [-1]);
    const d = g.emit('ScatterND', [zeros, at, dy], [{ shape: table.shape }], { reduction: 'add' })[0];
    return [d, null];
  },
  Concat: (g, r, dy) => {
    const axis = attrNum(r.attrs.axis, 0);
    const ts = r.inputs as T[];
    const sizes = ts.map((t) => t.shape[axis]);
    if (sizes.some((s) => s < 0)) throw new Error('graph: Concat gradient needs static sizes along the axis');
    if (ts.length === 1) return [dy];
    return g.emit(
      'Split',
      [dy, g.ints(sizes)],
      ts.map((t) => ({ shape: t.shape })),
      { axis },
    );
  },
  Slice: (g, r, dy) => {
    const x = r.inputs[0]!;
    // Pads: zeros before each sliced axis' start and after its end (static shapes).
    const meta = r.meta as { starts: number[]; ends: number[]; axes: number[] };
    const rank = x.shape.length;
    const pads = new Array<number>(2 * rank).fill(0);
    meta.axes.forEach((a, i) => {
      pads[a] = meta.starts[i];
      pads[rank + a] = x.shape[a] - meta.ends[i];
    });
    return [g.emit('Pad', [dy, g.ints(pads)], [{ shape: x.shape }], {})[0], null, null, null];
  },
  Reshape: (g, r, dy) => [g.emit('Reshape', [dy, g.shapeOf(r.inputs[0]!)], [{ shape: r.inputs[0]!.shape }])[0], null],
  Transpose: (g, r, dy) => {
    const perm = r.attrs.perm as number[];
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [g.transpose(dy, inv)];
  },
};

/** Max/Min: dy flows to the first operand except where `second` says the other one won. */
function pick(g: Graph, r: Rec, dy: T, second: T): (T | null)[] {
  const [a, b] = r.inputs as T[];
  const zero = g.scalar(0);
  return [g.unbroadcast(g.where(second, zero, dy), a.shape), g.unbroadcast(g.where(second, dy, zero), b.shape)];
}

/** dy of a reduction back to the input's shape (broadcast over the reduced axes). */
function spread(g: Graph, r: Rec, dy: T): T {
  const x = r.inputs[0]!;
  const keep = attrNum(r.attrs.keepdims, 1) === 1;
  let axes: number[];
  if (r.op === 'ReduceMean') axes = r.attrs.axes as number[];
  else axes = r.meta as number[];
  const k = keep ? dy : g.unsqueeze(dy, axes);
  return g.expand(k, g.shapeOf(x), x.shape);
}
