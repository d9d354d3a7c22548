/**
 * @file What the attention-lstm and gated-fusion learners share around the kit's training loop
 * (models/nn/trainer.ts): a network is its parameters and a forward-graph builder over raw
 * float32 rows of the Matrix (encoded inside the graph), so this file makes its training-step
 * and inference graphs, feeds row batches, scores the validation rows for early stopping and
 * predicts batch by batch; plus the shared training parameters, target scaling and JSON.
 *
 * @example
 *   const { target, encoding, options, valid, rng } = prepareFit('my-net', X, y, params, ctx);
 *   const { params: trained, bestEpoch } = await fitNet(net, X, target.y, ctx.weight, valid, options, rng, ctx);
 *   return networkModel('my-net', { task, encoding, spec, ...target-scale, params: trained, ... }, net.build, { importance });
 */
import { z } from 'zod';
import type { Matrix } from '../../core/matrix.ts';
import { UserError } from '../../core/errors.ts';
import { Random } from '../../core/random.ts';
import type { FitContext, FittedModel, Task } from '../model.ts';
import { checkColumns, fitColumnEncoding, type ColumnEncoding } from './columns.ts';
import { Graph, type T } from './graph.ts';
import { rowLoss, rowLossJs, weightedMean, type LossKind } from './losses.ts';
import type { OptimizerSpec } from './optim.ts';
import { ParamLayout, type Param } from './params.ts';
import { addTrainingStep, train } from './trainer.ts';
import { Session, defaultThreads, f32, type ort } from './session.ts';

/** Builds the forward pass on parameter tensors `w`; returns named outputs, `out` [n] among them. */
export type BuildNet = (g: Graph, w: ReadonlyMap<string, T>, train: boolean) => Record<string, T>;

export interface Net {
  kind: string;
  params: Param[];
  build: BuildNet;
  /** Dropout mask inputs of the training graph (each [n, units]). */
  masks: { name: string; units: number }[];
  dropout: number;
}

export interface FitNetOptions {
  loss: LossKind;
  huberDelta: number;
  optimizer: OptimizerSpec;
  learningRate: number;
  /** Fractions of the training steps after which the rate is multiplied by `lrFactor` (piecewise decay). */
  lrMilestones: number[];
  lrFactor: number;
  epochs: number;
  patience: number;
  batchSize: number;
  predictBatch: number;
  threads: number;
}

/** Runs a network's inference graph (its `outputs`) over a Matrix, batch by batch. */
export class NetPredictor {
  private readonly session: Session;
  private readonly layout: ParamLayout;

  constructor(build: BuildNet, params: readonly Param[], threads: number, private readonly outputs: string[]) {
    this.layout = new ParamLayout(params);
    const g = new Graph();
    const outs = build(g, this.layout.inputs(g), false);
    for (const o of outputs) g.output(outs[o], o);
    this.session = new Session(g.toModel('predict'), threads, outputs);
  }

  /** Each output for all rows, row-major ([rows] or [rows, width]); `vector`: other trainable values than the parameters'. */
  run(X: Matrix, batch: number, vector?: Float32Array): Record<string, Float32Array> {
    const feeds: Record<string, ort.Tensor> = {};
    const packed = this.layout.pack();
    this.layout.feed(vector ?? packed.params, packed.stats, feeds);
    const all: Record<string, Float32Array> = {};
    for (let from = 0; from < X.rows; from += batch) {
      const to = Math.min(X.rows, from + batch);
      feeds.rows = f32(X.data.subarray(from * X.cols, to * X.cols), [to - from, X.cols]); // a view: no copy
      const out = this.session.run(feeds);
      for (const o of this.outputs) {
        const d = out[o].data as Float32Array;
        const width = d.length / (to - from);
        all[o] ??= new Float32Array(X.rows * width);
        all[o].set(d, from * width);
      }
    }
    for (const o of this.outputs) all[o] ??= new Float32Array(0);
    return all;
  }

  dispose(): void {
    this.session.dispose();
  }
}

/**
 * Trains `net` on rows X with training-scale targets y (standardised, or 0/1 for logloss) and
 * optional validation rows (same scale). Returns the best epoch's parameters (the last epoch's
 * without validation rows).
 */
export async function fitNet(
  net: Net,
  X: Matrix,
  y: Float64Array,
  weight: Float64Array | undefined,
  valid: { X: Matrix; y: Float64Array } | undefined,
  o: FitNetOptions,
  rng: Random,
  ctx: Pick<FitContext, 'onIter' | 'log'>,
): Promise<{ params: Param[]; bestEpoch: number }> {
  const layout = new ParamLayout(net.params);
  const g = new Graph();
  const w = layout.inputs(g);
  const { out } = net.build(g, w, true);
  const loss = weightedMean(g, rowLoss(g, o.loss, out, g.input('y', [-1]), o.huberDelta), g.input('w', [-1]));
  const outputs = addTrainingStep(g, layout, w, loss, new Map(), o.optimizer);
  const predictor = valid ? new NetPredictor(net.build, net.params, o.threads, ['out']) : undefined;
  const batch = Math.min(o.batchSize, X.rows);
  const rowBuf = new Float32Array(batch * X.cols);
  const yb = new Float32Array(batch);
  const wb = new Float32Array(batch);
  try {
    const r = await train({
      name: net.kind,
      model: g.toModel(`${net.kind}_train`),
      outputs,
      layout,
      optimizer: o.optimizer,
      threads: o.threads,
      rows: X.rows,
      batchSize: o.batchSize,
      epochs: o.epochs,
      patience: o.patience,
      lr: { rate: o.learningRate, schedule: 'piecewise', milestones: o.lrMilestones, factor: o.lrFactor },
      masks: net.dropout > 0 ? net.masks.map((m) => ({ name: m.name, shape: [m.units], keep: 1 - net.dropout })) : [],
      rng,
      feedBatch(idx, feeds) {
        const rows = idx.length;
        for (let i = 0; i < rows; i++) {
          const row = idx[i];
          rowBuf.set(X.data.subarray(row * X.cols, (row + 1) * X.cols), i * X.cols);
          yb[i] = y[row];
          wb[i] = weight ? weight[row] : 1;
        }
        const view = (a: Float32Array, width: number) => (rows === batch ? a : a.subarray(0, rows * width));
        feeds.rows = f32(view(rowBuf, X.cols), [rows, X.cols]);
        feeds.y = f32(view(yb, 1), [rows]);
        feeds.w = f32(view(wb, 1), [rows]);
      },
      validLoss: predictor
        ? (params) => {
            const raw = predictor.run(valid!.X, o.predictBatch, params).out;
            let sum = 0;
            let m = 0;
            for (let i = 0; i < raw.length; i++)
              if (Number.isFinite(valid!.y[i])) {
                sum += rowLossJs(o.loss, raw[i], valid!.y[i], o.huberDelta);
                m++;
              }
            return m ? sum / m : NaN;
          }
        : undefined,
      log: ctx.log,
      onIter: ctx.onIter,
    });
    return { params: layout.unpack(r.params, r.stats), bestEpoch: r.bestEpoch };
  } finally {
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

function fitNetOptions(p: TrainingParams, task: Task): FitNetOptions {
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
function trainingTarget(kind: string, task: Task, y: Float64Array, weight: Float64Array | undefined): { y: Float64Array; mean: number; scale: number } {
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
function fromTrainingScale(raw: ArrayLike<number>, task: Task, mean: number, scale: number): Float64Array {
  const out = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = task === 'binary' ? 1 / (1 + Math.exp(-raw[i])) : raw[i] * scale + mean;
  return out;
}

/** Parameters as plain JSON and back. */
function paramsToJSON(params: readonly Param[]): unknown[] {
  return params.map((p) => ({ name: p.name, shape: p.shape, trainable: p.trainable, decay: p.decay, data: Array.from(p.data) }));
}

function paramsFromJSON(json: { name: string; shape: number[]; trainable: boolean; decay: boolean; data: number[] }[]): Param[] {
  return json.map((q) => ({ name: q.name, shape: q.shape, trainable: q.trainable, decay: q.decay, data: Float32Array.from(q.data) }));
}

/** A network learner's fitted state: its spec plus what every network keeps. */
export interface NetState<S> {
  task: Task;
  encoding: ColumnEncoding;
  spec: S;
  /** Target standardisation (regression); 0 and 1 for binary. */
  mean: number;
  scale: number;
  params: Param[];
  bestEpoch: number;
  threads: number;
  predictBatch: number;
}

/** The start every network fit shares: checks, training-scale target, column encoding, options, seeded Random, validation rows on the training scale. */
export function prepareFit(kind: string, X: Matrix, y: Float64Array, p: TrainingParams, ctx: FitContext) {
  if (y.length !== X.rows) throw new Error(`${kind}: ${X.rows} rows but ${y.length} labels`);
  if (X.cols === 0) throw new UserError(`${kind}: no input columns`);
  const target = trainingTarget(kind, ctx.task, y, ctx.weight);
  const encoding = fitColumnEncoding(X, p.embedding_dim);
  const options = fitNetOptions(p, ctx.task);
  const v = ctx.valid && ctx.valid.y.some((t) => Number.isFinite(t)) ? ctx.valid : undefined;
  if (v) checkColumns(kind, encoding, v.X);
  const valid = v ? { X: v.X, y: ctx.task === 'binary' ? v.y : v.y.map((t) => (t - target.mean) / target.scale) } : undefined;
  return { target, encoding, options, valid, rng: new Random(ctx.seed).fork(kind) };
}

/** A fitted network as a FittedModel: batched prediction on the label scale, JSON, and the learner's importance (and gates). */
export function networkModel<S>(kind: string, state: NetState<S>, build: BuildNet, extra: Pick<FittedModel, 'importance' | 'gates'>): FittedModel {
  let predictor: NetPredictor | undefined; // built on first predict, kept for the next calls
  return Object.freeze({
    kind,
    predict(X: Matrix): Float64Array {
      checkColumns(kind, state.encoding, X);
      predictor ??= new NetPredictor(build, state.params, state.threads, ['out']);
      return fromTrainingScale(predictor.run(X, state.predictBatch).out, state.task, state.mean, state.scale);
    },
    ...extra,
    toJSON: () => ({ ...state, kind, version: 1, params: paramsToJSON(state.params) }),
  });
}

/** The state back from networkModel's JSON (the kind checked). */
export function loadNetState<S>(kind: string, json: unknown): NetState<S> & Record<string, unknown> {
  const s = json as NetState<S> & { kind?: string; params: Parameters<typeof paramsFromJSON>[0] };
  if (s?.kind !== kind) throw new Error(`${kind}.load: not a ${kind} model`);
  return { ...s, threads: s.threads ?? defaultThreads(), params: paramsFromJSON(s.params) };
}

/** Per column of `cols` (in order): mean |weight| mass of its input rows of W, which start at `row`. */
export function inputMass(W: Param, encoding: ColumnEncoding, cols: readonly number[], row = 0): number[] {
  const width = W.shape[1];
  return cols.map((c) => {
    const col = encoding.columns[c];
    const rows = col.type === 'cat' ? col.dim : 1;
    let s = 0;
    for (let r = row; r < row + rows; r++) for (let k = 0; k < width; k++) s += Math.abs(W.data[r * width + k]);
    row += rows;
    return s / rows;
  });
}
