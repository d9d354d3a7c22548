/**
 * @file The `mlp` network: a plain list of named float32 arrays (so a fitted model is JSON and
 * holds no tensors), the forward pass in tfjs ops, and seeded initialisation.
 *
 * Layout: [numeric inputs | one embedding per categorical column] -> for each hidden layer:
 * dense -> batch norm (optional) -> activation -> dropout -> dense to one output (a
 * standardised target for regression, a logit for binary tasks).
 *
 * Weights are initialised in JavaScript from the kit's seeded Random (He-uniform for ReLU-like
 * activations, Glorot-uniform for tanh; embeddings N(0, 0.05)), so the initial network is the
 * same on every backend; dropout masks come from tfjs's seeded uniform with a seed drawn from the
 * same Random per step.
 *
 * Embedding look-ups use a custom gradient (scatter-add via `scatterND`) because the wasm
 * backend lacks `UnsortedSegmentSum`, which tfjs's own `gather` gradient needs.
 */
import type * as TF from '@tensorflow/tfjs';
import type { Random } from '../../core/random.ts';
import type { Tf } from './backend.ts';

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
}

/** A named array with its shape; the unit of toJSON and of tf variables. */
export interface Param {
  name: string;
  shape: number[];
  data: Float32Array;
  /** false for batch-norm moving statistics. */
  trainable: boolean;
  /** true where weight decay applies (dense kernels and embeddings). */
  decay: boolean;
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
  out.push({ name: 'Wout', shape: [fanIn, 1], data: uniform(fanIn, Math.sqrt(6 / (fanIn + 1))), trainable: true, decay: true });
  out.push({ name: 'bout', shape: [1], data: new Float32Array(1), trainable: true, decay: false });
  return out;
}

/** Inputs of one batch: the numeric block and one int32 index vector per categorical column. */
export interface BatchInputs {
  numeric: TF.Tensor2D | null;
  codes: TF.Tensor1D[];
}

export interface TrainingMode {
  /** Per-step dropout seeds source. */
  rng: Random;
  /** Receives (layer, batch mean, batch variance), kept outside tidy, to update moving stats. */
  onBatchStats?: (layer: number, mean: TF.Tensor1D, variance: TF.Tensor1D) => void;
}

function activate(tf: Tf, x: TF.Tensor2D, a: Activation): TF.Tensor2D {
  switch (a) {
    case 'relu':
      return tf.relu(x);
    case 'leaky_relu':
      return tf.leakyRelu(x, 0.01);
    case 'elu':
      return tf.elu(x);
    case 'selu':
      return tf.selu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'swish':
      return tf.mul(x, tf.sigmoid(x));
    case 'gelu': // sigmoid approximation of GELU
      return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
  }
}

/** Embedding rows for codes, with a scatter-add gradient (works on every backend). */
function lookup(tf: Tf, table: TF.Tensor2D, codes: TF.Tensor1D, training: boolean): TF.Tensor2D {
  if (!training) return tf.gather(table, codes);
  // `save` keeps the codes alive until backprop (the forward scope disposes its tensors first).
  const f = tf.customGrad<TF.Tensor2D>((...args) => {
    const t = args[0] as TF.Tensor2D;
    const save = args[1] as (tensors: TF.Tensor[]) => void;
    const shape = t.shape;
    save([codes]);
    return { value: tf.gather(t, codes), gradFunc: (dy, saved) => tf.scatterND(tf.expandDims(saved[0], 1), dy, shape) };
  });
  return f(table);
}

/**
 * Forward pass to one value per row (standardised target or logit). `w` maps param names to
 * tensors (variables while training, constants when predicting). With `training`, batch norm
 * uses batch statistics and dropout is on.
 */
export function forward(tf: Tf, spec: NetSpec, w: Map<string, TF.Tensor>, x: BatchInputs, training?: TrainingMode): TF.Tensor1D {
  const parts: TF.Tensor2D[] = [];
  if (x.numeric) parts.push(x.numeric);
  spec.embeddings.forEach((_, i) => parts.push(lookup(tf, w.get(`emb${i}`) as TF.Tensor2D, x.codes[i], !!training)));
  let h: TF.Tensor2D = parts.length === 1 ? parts[0] : tf.concat2d(parts, 1);
  spec.hidden.forEach((units, l) => {
    let z: TF.Tensor2D = tf.matMul(h, w.get(`W${l}`) as TF.Tensor2D);
    if (spec.batchNorm) {
      const gamma = w.get(`gamma${l}`) as TF.Tensor1D;
      const beta = w.get(`beta${l}`) as TF.Tensor1D;
      if (training) {
        const { mean, variance } = tf.moments(z, 0);
        training.onBatchStats?.(l, tf.keep(mean as TF.Tensor1D), tf.keep(variance as TF.Tensor1D));
        z = tf.batchNorm2d(z, mean as TF.Tensor1D, variance as TF.Tensor1D, beta, gamma, BN_EPSILON);
      } else {
        z = tf.batchNorm2d(z, w.get(`mean${l}`) as TF.Tensor1D, w.get(`var${l}`) as TF.Tensor1D, beta, gamma, BN_EPSILON);
      }
    } else {
      z = tf.add(z, w.get(`b${l}`) as TF.Tensor1D) as TF.Tensor2D;
    }
    h = activate(tf, z, spec.activation);
    if (training && spec.dropout > 0) {
      const keep = 1 - spec.dropout;
      const u = tf.randomUniform([h.shape[0], units], 0, 1, 'float32', training.rng.nextU32());
      const mask = tf.div(tf.cast(tf.less(u, keep), 'float32'), keep);
      h = tf.mul(h, mask);
    }
  });
  const out = tf.add(tf.matMul(h, w.get('Wout') as TF.Tensor2D), w.get('bout') as TF.Tensor1D);
  return tf.reshape(out, [-1]) as TF.Tensor1D;
}
