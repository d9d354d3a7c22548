/**
 * @file One training loop for the networks of the attention-lstm and gated-fusion learners: a
 * network is its parameters and a forward-graph builder; this file makes its training-step and
 * inference graphs, feeds seeded shuffled batches and dropout masks, steps the learning-rate
 * schedule (epoch milestones x factor), early-stops on the validation rows with the best epoch's
 * parameters restored, and predicts batch by batch. Rows are raw float32 rows of the Matrix
 * (encoded inside the graph), so nothing here depends on the network's layout.
 *
 * @example
 *   const { params, bestEpoch } = fitNet(net, X, yStd, { loss: 'mse', epochs: 50, ... }, ctx);
 *   const out = new NetPredictor(net.build, params, threads, ['out']).run(Xtest, 4096).out;
 */
import { z } from 'zod';
import type { Matrix } from '../../core/matrix.ts';
import { UserError } from '../../core/errors.ts';
import type { Random } from '../../core/random.ts';
import type { FitContext, Task } from '../model.ts';
import type { Param } from '../mlp/net.ts';
import { Graph, type T } from './graph.ts';
import { rowLoss, rowLossJs, weightedMean, type LossKind } from './losses.ts';
import { addUpdate, stateNames, stepScalars, type OptimizerSpec } from './optim.ts';
import { Session, defaultThreads, f32, type ort } from './session.ts';

/** Builds the forward pass on parameter inputs `w`; returns named outputs, `out` [n] among them. */
export type BuildNet = (g: Graph, w: ReadonlyMap<string, T>, train: boolean) => Record<string, T>;

export interface Net {
  kind: string;
  params: Param[];
  build: BuildNet;
  /** Dropout mask inputs of the training graph (each [n, units]); empty without dropout. */
  masks: { name: string; units: number }[];
  dropout: number;
}

export interface FitNetOptions {
  loss: LossKind;
  huberDelta: number;
  optimizer: OptimizerSpec;
  learningRate: number;
  /** Fractions of `epochs` after which the rate is multiplied by `lrFactor` (piecewise decay). */
  lrMilestones: number[];
  lrFactor: number;
  epochs: number;
  patience: number;
  batchSize: number;
  predictBatch: number;
  threads: number;
}

function paramInputs(g: Graph, params: readonly Param[]): Map<string, T> {
  return new Map(params.map((p) => [p.name, g.input(p.name, p.shape)]));
}

/** Runs a network's inference graph (its `outputs`) over a Matrix, batch by batch. */
export class NetPredictor {
  private readonly session: Session;

  constructor(
    build: BuildNet,
    private readonly params: readonly Param[],
    threads: number,
    private readonly outputs: string[],
  ) {
    const g = new Graph();
    const outs = build(g, paramInputs(g, params), false);
    for (const o of outputs) g.output(outs[o], o);
    this.session = new Session(g.toModel('predict'), threads, outputs);
  }

  /** Each output for all rows, row-major ([rows] or [rows, width]). */
  run(X: Matrix, batch: number, values?: ReadonlyMap<string, Float32Array>): Record<string, Float32Array> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const q of this.params) feeds[q.name] = f32(values?.get(q.name) ?? q.data, q.shape);
    const parts: Record<string, Float32Array[]> = Object.fromEntries(this.outputs.map((o) => [o, []]));
    for (let from = 0; from < X.rows; from += batch) {
      const to = Math.min(X.rows, from + batch);
      feeds.rows = f32(X.data.subarray(from * X.cols, to * X.cols), [to - from, X.cols]); // a view: no copy
      const out = this.session.run(feeds);
      for (const o of this.outputs) parts[o].push(out[o].data as Float32Array);
    }
    return Object.fromEntries(
      this.outputs.map((o) => {
        const all = new Float32Array(parts[o].reduce((s, a) => s + a.length, 0));
        let at = 0;
        for (const a of parts[o]) {
          all.set(a, at);
          at += a.length;
        }
        return [o, all];
      }),
    );
  }

  dispose(): void {
    this.session.dispose();
  }
}

function trainingModel(net: Net, o: FitNetOptions): { model: Uint8Array; outputs: string[] } {
  const g = new Graph();
  const w = paramInputs(g, net.params);
  const { out } = net.build(g, w, true);
  const loss = weightedMean(g, rowLoss(g, o.loss, out, g.input('y', [-1]), o.huberDelta), g.input('w', [-1]));
  g.output(loss, 'loss');
  const trainable = net.params.filter((p) => p.trainable);
  const grads = g.gradients(
    loss,
    trainable.map((p) => w.get(p.name)!),
  );
  addUpdate(
    g,
    trainable.map((p) => ({ t: w.get(p.name)!, decay: p.decay })),
    grads,
    o.optimizer,
  );
  const outputs = ['loss', ...trainable.flatMap((p) => [`${p.name}.next`, ...stateNames(o.optimizer.kind, p.name).map((s) => `${s}.next`)])];
  return { model: g.toModel(`${net.kind}_train`), outputs };
}

/** Dropout masks, scaled by 1/keep, from the seeded PRNG. */
function fillMask(mask: Float32Array, n: number, keep: number, rng: Random): void {
  const threshold = keep * 4294967296;
  const scale = 1 / keep;
  for (let i = 0; i < n; i++) mask[i] = rng.nextU32() < threshold ? scale : 0;
}

/**
 * Trains `net` on rows X with training-scale targets y (standardised, or 0/1 for logloss) and
 * optional validation rows (same scale). Returns the best epoch's parameters (the last epoch's
 * without validation rows).
 */
export function fitNet(
  net: Net,
  X: Matrix,
  y: Float64Array,
  weight: Float64Array | undefined,
  valid: { X: Matrix; y: Float64Array } | undefined,
  o: FitNetOptions,
  rng: Random,
  ctx: Pick<FitContext, 'onIter' | 'log'>,
): { params: Param[]; bestEpoch: number } {
  const n = X.rows;
  const { model, outputs } = trainingModel(net, o);
  const session = new Session(model, o.threads, outputs);
  const predictor = valid ? new NetPredictor(net.build, net.params, o.threads, ['out']) : undefined;
  const shuffleRng = rng.fork('shuffle');
  const dropoutRng = rng.fork('dropout');
  try {
    const values = new Map<string, Float32Array>(net.params.map((q) => [q.name, q.data]));
    const state = net.params.flatMap((q) => (q.trainable ? stateNames(o.optimizer.kind, q.name).map((s) => ({ name: s, shape: q.shape })) : []));
    for (const s of state) values.set(s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1)));
    const batch = Math.min(o.batchSize, n);
    const rowBuf = new Float32Array(batch * X.cols);
    const yb = new Float32Array(batch);
    const wb = new Float32Array(batch);
    const masks = net.dropout > 0 ? net.masks.map((m) => ({ ...m, data: new Float32Array(batch * m.units) })) : [];
    const order = Array.from({ length: n }, (_, i) => i);
    const stepsPerEpoch = Math.ceil(n / batch);
    const milestones = o.lrMilestones.map((f) => Math.round(f * o.epochs));
    const feeds: Record<string, ort.Tensor> = {};
    let step = 0;
    let bestLoss = Infinity;
    let bestEpoch = -1;
    let best: Map<string, Float32Array> | undefined;
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const lr = o.learningRate * o.lrFactor ** milestones.filter((m) => epoch >= m).length;
      shuffleRng.shuffle(order);
      let lossSum = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        const from = s * batch;
        const rows = Math.min(n, from + batch) - from;
        step++;
        for (let i = 0; i < rows; i++) {
          const r = order[from + i];
          rowBuf.set(X.data.subarray(r * X.cols, (r + 1) * X.cols), i * X.cols);
          yb[i] = y[r];
          wb[i] = weight ? weight[r] : 1;
        }
        const view = <A extends Float32Array>(a: A, width: number) => (rows === batch ? a : (a.subarray(0, rows * width) as A));
        feeds.rows = f32(view(rowBuf, X.cols), [rows, X.cols]);
        feeds.y = f32(view(yb, 1), [rows]);
        feeds.w = f32(view(wb, 1), [rows]);
        for (const m of masks) {
          fillMask(m.data, rows * m.units, 1 - net.dropout, dropoutRng);
          feeds[m.name] = f32(view(m.data, m.units), [rows, m.units]);
        }
        for (const q of net.params) feeds[q.name] = f32(values.get(q.name)!, q.shape);
        for (const st of state) feeds[st.name] = f32(values.get(st.name)!, st.shape);
        for (const [k, v] of Object.entries(stepScalars(o.optimizer.kind, lr, step))) feeds[k] = f32(Float32Array.of(v), []);
        const out = session.run(feeds);
        for (const name of outputs) if (name !== 'loss') values.set(name.slice(0, -'.next'.length), out[name].data as Float32Array);
        lossSum += (out.loss.data as Float32Array)[0] * rows;
      }
      const trainLoss = lossSum / n;
      if (!Number.isFinite(trainLoss)) throw new Error(`${net.kind}: training loss is ${trainLoss} at epoch ${epoch + 1}; lower learning_rate`);
      const metrics: Record<string, number> = { train_loss: trainLoss, lr };
      if (valid && predictor) {
        const raw = predictor.run(valid.X, o.predictBatch, values).out;
        let sum = 0;
        let m = 0;
        for (let i = 0; i < raw.length; i++)
          if (Number.isFinite(valid.y[i])) {
            sum += rowLossJs(o.loss, raw[i], valid.y[i], o.huberDelta);
            m++;
          }
        const vl = m ? sum / m : NaN;
        metrics.valid_loss = vl;
        if (vl < bestLoss) {
          bestLoss = vl;
          bestEpoch = epoch;
          best = new Map(net.params.map((q) => [q.name, values.get(q.name)!])); // step outputs are fresh arrays
        }
      }
      ctx.onIter?.(epoch + 1, metrics);
      if (valid && o.patience > 0 && epoch - bestEpoch >= o.patience) {
        ctx.log?.(`${net.kind}: early stop after epoch ${epoch + 1}; best epoch ${bestEpoch + 1} (valid_loss ${bestLoss.toPrecision(5)})`);
        break;
      }
    }
    const source = best ?? values;
    return { params: net.params.map((q) => ({ ...q, data: source.get(q.name)! })), bestEpoch: best ? bestEpoch + 1 : o.epochs };
  } finally {
    session.dispose();
    predictor?.dispose();
  }
}

/** Training parameters the network learners share (zod fields, help written once). */
export const trainingParams = {
  num_threads: z.number().int().min(0).default(0).describe('onnxruntime intra-op threads (0 = all available cores)'),
  optimizer: z.enum(['adam', 'sgd']).default('adam').describe('Adam (bias-corrected, decoupled weight decay) or plain SGD'),
  learning_rate: z.number().positive().default(1e-3).describe('initial learning rate'),
  lr_milestones: z.array(z.number().gt(0).lt(1)).default([0.5, 0.75]).describe('piecewise decay: fractions of `epochs` after which the rate is multiplied by lr_factor'),
  lr_factor: z.number().gt(0).max(1).default(0.1).describe('piecewise decay multiplier'),
  weight_decay: z.number().min(0).default(0).describe('decoupled weight decay (AdamW) on dense kernels and embeddings'),
  loss: z.enum(['huber', 'mae', 'mse']).default('mse').describe('regression loss on the standardised target (binary tasks use cross-entropy)'),
  huber_delta: z.number().positive().default(1).describe('Huber threshold, in target standard deviations'),
  epochs: z.number().int().min(1).default(150).describe('maximum epochs (shuffled each epoch)'),
  patience: z.number().int().min(0).default(15).describe('early stopping: epochs without validation improvement (0 = off); best epoch restored'),
  batch_size: z.number().int().min(1).default(128).describe('training batch size'),
  predict_batch_size: z.number().int().min(1).default(2048).describe('rows per prediction batch'),
  embedding_dim: z.number().int().min(0).default(0).describe('embedding width per categorical column; 0 = min(16, round(1.6 * levels^0.56))'),
};

type TrainingParams = { [K in keyof typeof trainingParams]: z.output<(typeof trainingParams)[K]> };

export function fitNetOptions(p: TrainingParams, task: Task): FitNetOptions {
  return {
    loss: task === 'binary' ? 'logloss' : p.loss,
    huberDelta: p.huber_delta,
    optimizer: { kind: p.optimizer, weightDecay: p.weight_decay },
    learningRate: p.learning_rate,
    lrMilestones: p.lr_milestones,
    lrFactor: p.lr_factor,
    epochs: p.epochs,
    patience: p.patience,
    batchSize: p.batch_size,
    predictBatch: p.predict_batch_size,
    threads: p.num_threads || defaultThreads(),
  };
}

/**
 * Checks labels and weights and returns the training-scale target: standardised (weighted mean
 * and standard deviation of the training rows) for regression, the 0/1 labels for binary tasks.
 */
export function trainingTarget(kind: string, task: Task, y: Float64Array, weight: Float64Array | undefined): { y: Float64Array; mean: number; scale: number } {
  const n = y.length;
  if (n < 2) throw new UserError(`${kind}: needs at least 2 training rows`);
  if (weight && weight.length !== n) throw new Error(`${kind}: ${n} rows but ${weight.length} weights`);
  let wsum = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) {
    const wi = weight ? weight[i] : 1;
    if (!Number.isFinite(y[i])) throw new UserError(`${kind}: label of training row ${i} is ${y[i]}`);
    if (!(wi >= 0)) throw new UserError(`${kind}: weight of training row ${i} is ${wi}`);
    wsum += wi;
    mean += wi * y[i];
  }
  if (!(wsum > 0)) throw new UserError(`${kind}: all training weights are 0`);
  if (task === 'binary') return { y, mean: 0, scale: 1 };
  mean /= wsum;
  let v = 0;
  for (let i = 0; i < n; i++) v += (weight ? weight[i] : 1) * (y[i] - mean) ** 2;
  const sd = Math.sqrt(v / wsum);
  const scale = sd > 1e-12 ? sd : 1;
  return { y: y.map((t) => (t - mean) / scale), mean, scale };
}

/** Training-scale outputs back to predictions: probabilities (binary) or the label scale. */
export function fromTrainingScale(raw: ArrayLike<number>, task: Task, mean: number, scale: number): Float64Array {
  const out = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = task === 'binary' ? 1 / (1 + Math.exp(-raw[i])) : raw[i] * scale + mean;
  return out;
}

/** Parameters as plain JSON and back. */
export function paramsToJSON(params: readonly Param[]): unknown[] {
  return params.map((p) => ({ name: p.name, shape: p.shape, trainable: p.trainable, decay: p.decay, data: Array.from(p.data) }));
}

export function paramsFromJSON(json: { name: string; shape: number[]; trainable: boolean; decay: boolean; data: number[] }[]): Param[] {
  return json.map((q) => ({ name: q.name, shape: q.shape, trainable: q.trainable, decay: q.decay, data: Float32Array.from(q.data) }));
}
