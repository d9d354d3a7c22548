/**
 * @file The `mlp` network: a plain list of named float32 arrays (so a fitted model is JSON),
 * seeded initialisation, and its two ONNX graphs built with the engine in models/nn: the
 * training step (forward, loss, gradients, optimizer update and batch-norm running statistics
 * in one run, see models/nn/trainer.ts) and the inference graph (forward only, running
 * statistics).
 *
 * Layout: [numeric inputs | one embedding per categorical column] -> for each hidden layer:
 * dense -> batch norm (optional) -> activation -> dropout -> dense to one output per target (a
 * standardised target for regression, a logit for binary tasks): several targets share every
 * layer but the last (one head each).
 *
 * Graph inputs: `params` and `stats` (the flat parameter vectors, models/nn/params.ts) and raw
 * float32 rows of the Matrix (encoded inside the graph, see encodeInputs): inference `rows`
 * [n, cols]; training the whole Matrix `X` with `y`, `w` (row weights; [n, heads] each with
 * several heads) and the batch's row
 * indices `idx` (gathered in the graph), `mask<l>` [batch, units] (dropout masks scaled by 1/keep,
 * drawn from the kit's seeded Random) and the optimizer's scalars and state. Outputs: inference
 * `out` [n] ([n, heads] with several heads); training those of addTrainingStep.
 *
 * Weights are initialised in JavaScript from the kit's seeded Random (He-uniform for ReLU-like
 * activations, Glorot-uniform for tanh; embeddings N(0, 0.05)).
 */
import type { Random } from '../../core/random.ts';
import { Graph, type T } from '../nn/graph.ts';
import { rowLoss, weightedMean, type LossKind } from '../nn/losses.ts';
import type { OptimizerSpec } from '../nn/optim.ts';
import type { Param, ParamLayout } from '../nn/params.ts';
import { addTrainingStep } from '../nn/trainer.ts';
import { embeddingLookup, nonFinite } from '../nn/columns.ts';

export type { Param };

export type Activation = 'relu' | 'leaky_relu' | 'elu' | 'selu' | 'gelu' | 'swish' | 'tanh';

export interface NetSpec {
  /** Width of the numeric input (standardised columns + missing indicators). */
  numeric: number;
  /** Per categorical column: table rows (training levels + 1 'unknown') and embedding width. */
  embeddings: { rows: number; dim: number }[];
  hidden: number[];
  batchNorm: boolean;
  activation: Activation;
  dropout: number;
  /** Outputs (one head per target); absent = 1. */
  outputs?: number;
}

export function headsOf(spec: NetSpec): number {
  return spec.outputs ?? 1;
}

export const BN_MOMENTUM = 0.9;
export const BN_EPSILON = 1e-3;

export function inputWidth(spec: NetSpec): number {
  return spec.numeric + spec.embeddings.reduce((s, e) => s + e.dim, 0);
}

/** Fresh parameters, in a fixed order, drawn from rng. */
export function initParams(spec: NetSpec, rng: Random): Param[] {
  const out: Param[] = [];
  const uniform = (n: number, limit: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.uniform(-limit, limit);
    return a;
  };
  const gain = spec.activation === 'tanh' ? 1 : spec.activation === 'selu' ? 0.5 : 2; // glorot-ish vs he; lecun for selu
  spec.embeddings.forEach((e, i) => {
    const a = new Float32Array(e.rows * e.dim);
    for (let k = 0; k < a.length; k++) a[k] = 0.05 * rng.normal();
    out.push({ name: `emb${i}`, shape: [e.rows, e.dim], data: a, trainable: true, decay: true });
  });
  let fanIn = inputWidth(spec);
  spec.hidden.forEach((units, l) => {
    const limit = spec.activation === 'tanh' ? Math.sqrt(6 / (fanIn + units)) : Math.sqrt((3 * gain) / fanIn);
    out.push({ name: `W${l}`, shape: [fanIn, units], data: uniform(fanIn * units, limit), trainable: true, decay: true });
    if (spec.batchNorm) {
      out.push({ name: `gamma${l}`, shape: [units], data: new Float32Array(units).fill(1), trainable: true, decay: false });
      out.push({ name: `beta${l}`, shape: [units], data: new Float32Array(units), trainable: true, decay: false });
      out.push({ name: `mean${l}`, shape: [units], data: new Float32Array(units), trainable: false, decay: false });
      out.push({ name: `var${l}`, shape: [units], data: new Float32Array(units).fill(1), trainable: false, decay: false });
    } else {
      out.push({ name: `b${l}`, shape: [units], data: new Float32Array(units), trainable: true, decay: false });
    }
    fanIn = units;
  });
  const heads = headsOf(spec);
  out.push({ name: 'Wout', shape: [fanIn, heads], data: uniform(fanIn * heads, Math.sqrt(6 / (fanIn + heads))), trainable: true, decay: true });
  out.push({ name: 'bout', shape: [heads], data: new Float32Array(heads), trainable: true, decay: false });
  return out;
}

function activate(g: Graph, x: T, a: Activation): T {
  switch (a) {
    case 'relu':
      return g.relu(x);
    case 'leaky_relu':
      return g.leakyRelu(x, 0.01);
    case 'elu':
      return g.elu(x);
    case 'selu':
      return g.selu(x);
    case 'tanh':
      return g.tanh(x);
    case 'swish':
      return g.mul(x, g.sigmoid(x));
    case 'gelu': // sigmoid approximation of GELU
      return g.mul(x, g.sigmoid(g.mul(x, g.scalar(1.702))));
  }
}

/**
 * How raw rows become network inputs (fitted on the training rows): numeric columns in slot
 * order, then the columns with a missing indicator, then one categorical column per table.
 */
export interface InputLayout {
  cols: number;
  numeric: { src: number; mean: number; scale: number }[];
  indicators: number[];
  cats: { src: number; levels: number }[];
}

/** Columns `idx` of rows (axis 1), skipped when idx is all of them in order. */
function columns(g: Graph, rows: T, idx: number[], cols: number): T {
  if (idx.length === cols && idx.every((c, i) => c === i)) return rows;
  return g.emit('Gather', [rows, g.constant(Int32Array.from(idx), [idx.length])], [{ shape: [-1, idx.length] }], { axis: 1 })[0];
}

/**
 * Encodes the raw float32 rows `rows` [n, cols] inside the graph: numeric columns standardised
 * (missing or infinite -> 0) and their 0/1 missing indicators, categorical codes to table rows
 * (above the training maximum, negative or missing -> the 'unknown' row), embeddings looked up.
 * Batches are then plain row blocks of the Matrix: no per-element work in JavaScript.
 * `finite`: every numeric value the graph will see is finite (the training rows, when they are),
 * so the missing-value guard is left out.
 */
function encodeInputs(g: Graph, layout: InputLayout, rows: T, w: ReadonlyMap<string, T>, finite: boolean): T {
  const parts: T[] = [];
  if (layout.numeric.length) {
    const k = layout.numeric.length;
    const v = columns(
      g,
      rows,
      layout.numeric.map((c) => c.src),
      layout.cols,
    );
    const mean = g.constant(Float32Array.from(layout.numeric, (c) => c.mean), [k]);
    const inv = g.constant(Float32Array.from(layout.numeric, (c) => 1 / c.scale), [k]);
    const z = g.mul(g.sub(v, mean), inv);
    parts.push(finite ? z : g.where(nonFinite(g, z), g.scalar(0), z));
  }
  if (layout.indicators.length) {
    const v = columns(g, rows, layout.indicators, layout.cols);
    parts.push(g.cast(nonFinite(g, v), 'float32'));
  }
  layout.cats.forEach((c, i) => {
    parts.push(embeddingLookup(g, g.reshape(columns(g, rows, [c.src], layout.cols), [-1]), c.levels, w.get(`emb${i}`)!));
  });
  return parts.length === 1 ? parts[0] : g.concat(parts, 1);
}

/**
 * The forward pass of raw rows [n, cols] to one value per row ([n, heads] with several heads). With `train`, batch norm uses batch statistics (their
 * running averages are returned in `statsNext` as `mean<l>` / `var<l>`) and dropout masks are
 * inputs.
 */
function forward(
  g: Graph,
  spec: NetSpec,
  layout: InputLayout,
  rows: T,
  w: ReadonlyMap<string, T>,
  train: boolean,
  finite = false,
): { out: T; statsNext: Map<string, T> } {
  let h = encodeInputs(g, layout, rows, w, finite);
  const statsNext = new Map<string, T>();
  const eps = g.scalar(BN_EPSILON);
  spec.hidden.forEach((units, l) => {
    let z: T;
    if (spec.batchNorm) {
      z = g.matmul(h, w.get(`W${l}`)!);
      let d: T;
      let variance: T;
      if (train) {
        const mu = g.reduceMean(z, [0], true);
        d = g.sub(z, mu);
        variance = g.reduceMean(g.square(d), [0], true);
        const m = g.scalar(BN_MOMENTUM);
        const m1 = g.scalar(1 - BN_MOMENTUM);
        statsNext.set(`mean${l}`, g.add(g.mul(w.get(`mean${l}`)!, m), g.mul(g.reshape(mu, [units]), m1)));
        statsNext.set(`var${l}`, g.add(g.mul(w.get(`var${l}`)!, m), g.mul(g.reshape(variance, [units]), m1)));
      } else {
        d = g.sub(z, w.get(`mean${l}`)!);
        variance = w.get(`var${l}`)!;
      }
      // gamma / sqrt(var + eps) on the [units] row, then one multiply-add over the batch.
      const scale = g.div(w.get(`gamma${l}`)!, g.sqrt(g.add(variance, eps)));
      z = g.add(g.mul(d, scale), w.get(`beta${l}`)!);
    } else {
      z = g.gemm(h, w.get(`W${l}`)!, w.get(`b${l}`)!);
    }
    h = activate(g, z, spec.activation);
    if (train && spec.dropout > 0) h = g.mul(h, g.input(`mask${l}`, [-1, units]));
  });
  const heads = headsOf(spec);
  return { out: g.reshape(g.gemm(h, w.get('Wout')!, w.get('bout')!), heads === 1 ? [-1] : [-1, heads]), statsNext };
}

/** Inference graph: inputs `rows`, `params`, `stats`; output `out`. */
export function inferenceModel(spec: NetSpec, layout: InputLayout, params: ParamLayout): Uint8Array {
  const g = new Graph();
  const w = params.inputs(g);
  g.output(forward(g, spec, layout, g.input('rows', [-1, layout.cols]), w, false).out, 'out');
  return g.toModel('mlp_predict');
}

/**
 * Training-step graph and the names of its outputs. The whole training Matrix is an input (`X`
 * [n, cols], fed without a copy) with the standardised targets (`y` [n]) and row weights (`w`
 * [n]), [n, heads] each with several heads (a weight per row and target); `idx` [batch] int32 picks the batch's rows inside the graph. `finite`: the training
 * rows' numeric values are all finite (the graph then skips the missing-value guard).
 */
export function trainingModel(
  spec: NetSpec,
  layout: InputLayout,
  params: ParamLayout,
  loss: { kind: LossKind; delta: number },
  optimizer: OptimizerSpec,
  finite: boolean,
): { model: Uint8Array; outputs: string[] } {
  const g = new Graph();
  const w = params.inputs(g);
  const idx = g.input('idx', [-1], 'int32');
  const pick = (name: string, shape: number[]) => g.gather(g.input(name, shape), idx);
  const { out, statsNext } = forward(g, spec, layout, pick('X', [-1, layout.cols]), w, true, finite);
  const perRow = headsOf(spec) === 1 ? [-1] : [-1, headsOf(spec)];
  const batchLoss = weightedMean(g, rowLoss(g, loss.kind, out, pick('y', perRow), loss.delta), pick('w', perRow));
  const outputs = addTrainingStep(g, params, w, batchLoss, statsNext, optimizer);
  return { model: g.toModel('mlp_train'), outputs };
}
