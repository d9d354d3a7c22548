/**
 * @file `mlp`: a multi-layer perceptron for tabular features, trained on onnxruntime-node
 * (native MLAS kernels, multithreaded) through the kit's small training engine (models/nn): one
 * ONNX graph per training step does forward, loss, gradients and the optimizer update.
 *
 * - Inputs: numeric columns standardised with per-column mean/scale from the training rows
 *   (missing -> 0 after scaling, plus a 0/1 missing indicator per column that had missing
 *   training values); categorical columns through learned embeddings (codes above the training
 *   maximum, negative or missing -> one 'unknown' row of the table). The encoding runs inside
 *   the graph: the training graph gathers each batch's rows from the float32 Matrix (fed
 *   without a copy) by row index, prediction batches are views of it. The learner never holds
 *   another copy of its training rows, and predicts batch by batch.
 * - Target: standardised on the training rows for regression (undone in predict); binary tasks
 *   train a logit with binary cross-entropy and predict probabilities.
 * - Several targets (`fitJoint`, a multi-target run): one network whose last layer has one head
 *   per target; every other layer is shared. Each target has its own standardisation and a weight
 *   per row (0: the row does not fit that head), and the loss is their weighted mean. Early
 *   stopping watches the mean over targets of the monitored value. One fitted model per target
 *   comes back, each predicting its head (they share one network and one inference session).
 * - Training: Adam (optionally decoupled weight decay) or SGD, cosine or reduce-on-plateau
 *   learning rate, Huber / MAE / MSE loss, per-row weights, seeded shuffling, dropout masks from
 *   the seeded PRNG, early stopping on the fold's validation rows with the best epoch's weights
 *   (and batch-norm statistics) restored. The monitored value is the `metric` param, else the
 *   run's validation.metric (ctx.metric) on the label scale, else the validation loss; a refit
 *   (ctx.iterations) trains the chosen number of epochs (its schedule spans them).
 * - Threads: `num_threads` intra-op threads (0 = all cores). Same seed + same machine = the
 *   same bytes, on any thread count (MLAS never splits a reduction across threads; tested).
 *
 * @example
 *   - id: mlp
 *     kind: mlp
 *     params: { hidden: [256, 64], dropout: 0.2, loss: huber, epochs: 60, patience: 8 }
 */
import { z } from 'zod';
import type { Matrix } from '../core/matrix.ts';
import { Random } from '../core/random.ts';
import { UserError } from '../core/errors.ts';
import { labelScorer, METRICS, type MetricName } from '../core/eval/metrics.ts';
import { defineModel, type FitContext, type FittedModel, type JointFitContext, type Task } from './model.ts';
import { headsOf, initParams, inferenceModel, trainingModel, type InputLayout, type NetSpec } from './mlp/net.ts';
import { rowLossJs, type LossKind } from './nn/losses.ts';
import { ParamLayout, type Param } from './nn/params.ts';
import { Session, defaultThreads, f32, i32, type ort } from './nn/session.ts';
import { train } from './nn/trainer.ts';
import { autoEmbeddingDim, checkColumns } from './nn/columns.ts';

const params = z
  .object({
    num_threads: z.number().int().min(0).default(0).describe('onnxruntime intra-op threads (0 = all available cores); results do not depend on it'),
    optimizer: z.enum(['adam', 'sgd']).default('adam').describe('Adam (bias-corrected, decoupled weight decay) or plain SGD'),
    hidden: z.array(z.number().int().min(1)).default([256, 64]).describe('hidden layer widths, input side first ([] = linear model)'),
    activation: z
      .enum(['relu', 'leaky_relu', 'elu', 'selu', 'gelu', 'swish', 'tanh'])
      .default('relu')
      .describe('hidden-layer activation'),
    dropout: z.number().min(0).max(0.9).default(0.1).describe('dropout rate after each hidden layer'),
    batch_norm: z.boolean().default(true).describe('batch normalisation after each hidden dense layer'),
    embedding_dim: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('embedding width per categorical column; 0 = min(16, round(1.6 * levels^0.56))'),
    missing_indicators: z.boolean().default(true).describe('add a 0/1 input per numeric column with missing training values'),
    loss: z.enum(['huber', 'mae', 'mse']).default('huber').describe('regression loss on the standardised target (binary tasks use cross-entropy)'),
    huber_delta: z.number().positive().default(1).describe('Huber threshold, in target standard deviations'),
    learning_rate: z.number().positive().default(1e-3).describe('Adam learning rate (peak, for the cosine schedule)'),
    lr_schedule: z
      .enum(['cosine', 'plateau', 'constant'])
      .default('cosine')
      .describe('cosine decay over `epochs`, or multiply by plateau_factor after plateau_patience epochs without improvement'),
    min_lr_ratio: z.number().min(0).max(1).default(0.01).describe('floor of the learning rate, as a fraction of learning_rate'),
    plateau_patience: z.number().int().min(1).default(3).describe('epochs without improvement before the plateau schedule lowers the rate'),
    plateau_factor: z.number().gt(0).lt(1).default(0.5).describe('plateau schedule multiplier'),
    weight_decay: z.number().min(0).default(0).describe('decoupled weight decay (AdamW) on dense kernels and embeddings'),
    epochs: z.number().int().min(1).default(100).describe('maximum epochs'),
    patience: z
      .number()
      .int()
      .min(0)
      .default(10)
      .describe('early stopping: epochs without validation improvement (0 = off); best epoch restored'),
    batch_size: z.number().int().min(1).default(256).describe('training batch size'),
    predict_batch_size: z.number().int().min(1).default(8192).describe('rows per prediction batch'),
    multi_target: z
      .enum(['joint', 'separate'])
      .default('joint')
      .describe('several targets: one network with a head per target (joint), or one network per target (separate)'),
    metric: z
      .enum(['loss', 'src', 'mae', 'mape', 'rmse', 'auc', 'logloss'])
      .optional()
      .describe("early-stopping metric on the label scale (loss: the training loss on the fitted target); default: the pipeline's validation.metric, else loss"),
  })
  .strict();

export type MlpParams = z.output<typeof params>;

type NumCol = { type: 'num'; mean: number; scale: number; slot: number; indicator: number };
type CatCol = { type: 'cat'; levels: number; table: number };

/** Input encoding fitted on the training rows. */
interface Encoding {
  names: string[];
  /** Per input column: numeric scaling (with the indicator's slot, -1 if none) or categorical table size. */
  columns: (NumCol | CatCol)[];
  numericWidth: number;
}

interface MlpState {
  task: Task;
  encoding: Encoding;
  spec: NetSpec;
  /** Per head: target standardisation (regression); identity for binary. */
  yMean: number[];
  yScale: number[];
  params: Param[];
  bestEpoch: number;
  /** Validation rows chose bestEpoch. */
  validated: boolean;
  threads: number;
}

/** Per-column statistics in one row-major pass over X (a column-wise pass strides all of memory per column). */
function fitEncoding(X: Matrix, p: MlpParams): { encoding: Encoding; embeddings: NetSpec['embeddings']; finite: boolean } {
  const { rows, cols, data } = X;
  const sum = new Float64Array(cols);
  const sumSq = new Float64Array(cols);
  const finite = new Float64Array(cols);
  const max = new Float64Array(cols).fill(-1);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = data[o + c];
      if (v === v && v !== Infinity && v !== -Infinity) {
        sum[c] += v;
        sumSq[c] += v * v;
        finite[c]++;
        if (v > max[c]) max[c] = v;
      }
    }
  }
  const columns: Encoding['columns'] = [];
  const embeddings: NetSpec['embeddings'] = [];
  let slot = 0;
  let allFinite = true;
  const indicators: NumCol[] = [];
  for (let c = 0; c < cols; c++) {
    if (X.categorical[c]) {
      const levels = Math.floor(Math.max(max[c], -1)) + 1;
      columns.push({ type: 'cat', levels, table: embeddings.length });
      embeddings.push({ rows: levels + 1, dim: p.embedding_dim || autoEmbeddingDim(levels + 1) });
    } else {
      const k = finite[c];
      if (k < rows) allFinite = false;
      const mean = k ? sum[c] / k : 0;
      const sd = k ? Math.sqrt(Math.max(0, sumSq[c] / k - mean * mean)) : 0;
      const col: NumCol = { type: 'num', mean, scale: sd > 1e-12 ? sd : 1, slot: slot++, indicator: -1 };
      columns.push(col);
      if (p.missing_indicators && k < rows && k > 0) indicators.push(col);
    }
  }
  for (const col of indicators) col.indicator = slot++;
  return { encoding: { names: [...X.names], columns, numericWidth: slot }, embeddings, finite: allFinite };
}

function layoutOf(enc: Encoding): InputLayout {
  const nums = enc.columns.map((c, src) => ({ c, src })).filter((e): e is { c: NumCol; src: number } => e.c.type === 'num');
  const cats = enc.columns.map((c, src) => ({ c, src })).filter((e): e is { c: CatCol; src: number } => e.c.type === 'cat');
  return {
    cols: enc.columns.length,
    numeric: [...nums].sort((a, b) => a.c.slot - b.c.slot).map(({ c, src }) => ({ src, mean: c.mean, scale: c.scale })),
    indicators: nums
      .filter((e) => e.c.indicator >= 0)
      .sort((a, b) => a.c.indicator - b.c.indicator)
      .map((e) => e.src),
    cats: [...cats].sort((a, b) => a.c.table - b.c.table).map(({ c, src }) => ({ src, levels: c.levels })),
  };
}

/** Forward-only predictor: one inference session, fed batch by batch from X. */
class Predictor {
  private readonly session: Session;

  constructor(
    private readonly state: Pick<MlpState, 'encoding' | 'spec' | 'threads'>,
    private readonly layout: ParamLayout,
    private readonly batch: number,
  ) {
    this.session = new Session(inferenceModel(state.spec, layoutOf(state.encoding), layout), state.threads, ['out']);
  }

  /** Raw network outputs (training scale) for all rows of X, with the given parameter vectors: [rows, heads] row-major. */
  raw(X: Matrix, params: Float32Array, stats: Float32Array): Float64Array {
    checkColumns('mlp', this.state.encoding, X);
    const heads = headsOf(this.state.spec);
    const out = new Float64Array(X.rows * heads);
    const feeds: Record<string, ort.Tensor> = {};
    this.layout.feed(params, stats, feeds);
    for (let from = 0; from < X.rows; from += this.batch) {
      const to = Math.min(X.rows, from + this.batch);
      feeds.rows = f32(X.data.subarray(from * X.cols, to * X.cols), [to - from, X.cols]); // a view: no copy
      out.set(this.session.run(feeds).out.data as Float32Array, from * heads);
    }
    return out;
  }
}

function importanceOf(state: MlpState): Record<string, number> {
  // First-layer weight magnitude per input (inputs are standardised); an embedding's rows are
  // weighted by the mean |value| of its dimension.
  const W = state.params.find((p) => p.name === (state.spec.hidden.length ? 'W0' : 'Wout'))!;
  const units = W.shape[1];
  const rowMass = (r: number) => {
    let s = 0;
    for (let j = 0; j < units; j++) s += Math.abs(W.data[r * units + j]);
    return s;
  };
  const imp: Record<string, number> = {};
  let embOffset = state.encoding.numericWidth;
  const embStart: number[] = [];
  for (const e of state.spec.embeddings) {
    embStart.push(embOffset);
    embOffset += e.dim;
  }
  state.encoding.columns.forEach((col, c) => {
    let s = 0;
    if (col.type === 'num') {
      s = rowMass(col.slot) + (col.indicator >= 0 ? rowMass(col.indicator) : 0);
    } else {
      const table = state.params.find((p) => p.name === `emb${col.table}`)!;
      const { rows, dim } = state.spec.embeddings[col.table];
      for (let d = 0; d < dim; d++) {
        let m = 0;
        for (let r = 0; r < rows; r++) m += Math.abs(table.data[r * dim + d]);
        s += (m / rows) * rowMass(embStart[col.table] + d);
      }
    }
    imp[state.encoding.names[c]] = s;
  });
  return imp;
}

/** The fitted models of a network, one per head; they share the parameters and one inference session (built on first predict). */
function fittedHeads(state: MlpState, predictBatch: number): FittedModel[] {
  let predictor: Predictor | undefined;
  const layout = new ParamLayout(state.params);
  const vectors = layout.pack();
  const heads = headsOf(state.spec);
  const raw = (X: Matrix) => (predictor ??= new Predictor(state, layout, predictBatch)).raw(X, vectors.params, vectors.stats);
  return Array.from({ length: heads }, (_, head) => fitted(state, predictBatch, head, raw));
}

function fitted(state: MlpState, predictBatch: number, head: number, raw: (X: Matrix) => Float64Array): FittedModel {
  const heads = headsOf(state.spec);
  const [mean, scale] = [state.yMean[head], state.yScale[head]];
  return Object.freeze({
    kind: 'mlp',
    iterations: state.validated ? state.bestEpoch : undefined,
    predict(X: Matrix): Float64Array {
      const all = raw(X);
      const out = heads === 1 ? all : new Float64Array(X.rows);
      for (let i = 0; i < X.rows; i++) {
        const v = all[i * heads + head];
        out[i] = state.task === 'binary' ? 1 / (1 + Math.exp(-v)) : v * scale + mean;
      }
      return out;
    },
    importance: () => importanceOf(state),
    toJSON: () => ({
      kind: 'mlp',
      version: 3,
      task: state.task,
      encoding: state.encoding,
      spec: state.spec,
      head,
      yMean: state.yMean,
      yScale: state.yScale,
      bestEpoch: state.bestEpoch,
      validated: state.validated,
      threads: state.threads,
      predictBatch,
      params: state.params.map((p) => ({ name: p.name, shape: p.shape, trainable: p.trainable, decay: p.decay, data: Array.from(p.data) })),
    }),
  });
}

/**
 * What early stopping watches on the validation rows: the metric (the `metric` param, else the
 * run's) on the label scale, or the loss on the fitted target. `sign * score` is minimised.
 */
function validMonitor(
  yValid: Float64Array[],
  p: MlpParams,
  ctx: Pick<FitContext, 'metric' | 'task' | 'toLabel'>,
  lossKind: LossKind,
  yMean: number[],
  yScale: number[],
): { name: string; sign: 1 | -1; score(raw: Float64Array): number } {
  const heads = yValid.length;
  // Per head, the rows with a label; several heads score the mean over heads.
  const rows = yValid.map((y) => Array.from({ length: y.length }, (_, i) => i).filter((i) => Number.isFinite(y[i])));
  const name: MetricName | 'loss' = p.metric ?? ctx.metric ?? 'loss';
  const mean = (perHead: (h: number) => number) => {
    let s = 0;
    for (let h = 0; h < heads; h++) s += perHead(h);
    return s / heads;
  };
  if (name === 'loss')
    return {
      name: 'valid_loss',
      sign: 1,
      score: (raw) => mean((h) => rows[h].reduce((s, i) => s + rowLossJs(lossKind, raw[i * heads + h], (yValid[h][i] - yMean[h]) / yScale[h], p.huber_delta), 0) / rows[h].length),
    };
  const binary = ctx.task === 'binary';
  const toLabel = binary ? (v: number) => v : (ctx.toLabel ?? ((v: number) => v));
  // Scored against fixed labels every epoch: work on the labels alone (SRC's ranks) is done once.
  const scorers = rows.map((r, h) => labelScorer(name, Float64Array.from(r, (i) => toLabel(yValid[h][i]))));
  const pred = rows.map((r) => new Float64Array(r.length));
  return {
    name: `valid_${name}`,
    sign: METRICS[name].higherIsBetter ? -1 : 1,
    score: (raw) =>
      mean((h) => {
        rows[h].forEach((i, k) => {
          const v = raw[i * heads + h];
          pred[h][k] = binary ? 1 / (1 + Math.exp(-v)) : toLabel(v * yScale[h] + yMean[h]);
        });
        return scorers[h](pred[h]);
      }),
  };
}

/** One network for the targets ys (one head each); returns one fitted model per head. */
async function fitMlp(X: Matrix, ys: Float64Array[], p: MlpParams, ctx: JointFitContext): Promise<FittedModel[]> {
  const n = X.rows;
  const heads = ys.length;
  for (const y of ys) if (y.length !== n) throw new Error(`mlp: ${n} rows but ${y.length} labels`);
  if (n < 2) throw new UserError('mlp: needs at least 2 training rows');
  if (X.cols === 0) throw new UserError('mlp: no input columns');
  const rng = new Random(ctx.seed).fork('mlp');
  const task = ctx.task;
  const threads = p.num_threads || defaultThreads();

  const { encoding, embeddings, finite } = fitEncoding(X, p);
  const spec: NetSpec = {
    numeric: encoding.numericWidth,
    embeddings,
    hidden: [...p.hidden],
    batchNorm: p.batch_norm,
    activation: p.activation,
    dropout: p.dropout,
    ...(heads > 1 ? { outputs: heads } : {}),
  };
  const of = (h: number) => (heads > 1 ? ` (target ${h + 1})` : '');
  const yMean = new Array<number>(heads).fill(0);
  const yScale = new Array<number>(heads).fill(1);
  ys.forEach((y, h) => {
    const weight = ctx.weights?.[h];
    if (weight && weight.length !== n) throw new Error(`mlp: ${n} rows but ${weight.length} weights`);
    let wsum = 0;
    for (let i = 0; i < n; i++) {
      const wi = weight ? weight[i] : 1;
      if (!(wi >= 0)) throw new UserError(`mlp: weight of training row ${i}${of(h)} is ${wi}`);
      if (wi > 0 && !Number.isFinite(y[i])) throw new UserError(`mlp: label of training row ${i}${of(h)} is ${y[i]}`);
      wsum += wi;
    }
    if (!(wsum > 0)) throw new UserError(`mlp: all training weights${of(h)} are 0`);
    // Target scaling (weighted, training rows only).
    if (task !== 'regression') return;
    let m = 0;
    for (let i = 0; i < n; i++) if (!weight || weight[i] > 0) m += (weight ? weight[i] : 1) * y[i];
    m /= wsum;
    let v = 0;
    for (let i = 0; i < n; i++) if (!weight || weight[i] > 0) v += (weight ? weight[i] : 1) * (y[i] - m) ** 2;
    const sd = Math.sqrt(v / wsum);
    yMean[h] = m;
    yScale[h] = sd > 1e-12 ? sd : 1;
  });

  const lossKind: LossKind = task === 'binary' ? 'logloss' : p.loss;
  const init = initParams(spec, rng.fork('init'));
  // A refit (ctx.iterations) trains the epochs an early-stopped fit chose and validates nothing.
  const epochs = ctx.iterations ? ctx.iterations.count : p.epochs;
  const valid = !ctx.iterations && ctx.valid && ctx.valid.ys.some((y) => y.some((v) => Number.isFinite(v))) ? ctx.valid : undefined;
  if (valid) checkColumns('mlp', encoding, valid.X);
  const monitorValid = valid ? validMonitor(valid.ys, p, ctx, lossKind, yMean, yScale) : undefined;

  const layers = [...spec.hidden, heads].join('-');
  ctx.log?.(
    `mlp: ${n} rows, ${X.cols} columns -> ${encoding.numericWidth} numeric inputs + ${embeddings.length} embeddings` +
      ` (${embeddings.map((e) => `${e.rows - 1}x${e.dim}`).join(', ') || 'none'}), layers ${layers}` +
      `${heads > 1 ? ` (one network, a head per target: ${heads} targets)` : ''}, ${task === 'binary' ? 'cross-entropy' : p.loss}` +
      `, ${p.optimizer}, batch ${p.batch_size}, up to ${p.epochs} epochs${valid && p.patience ? `, patience ${p.patience}` : ''}` +
      `; onnxruntime ${threads} thread${threads === 1 ? '' : 's'}`,
  );

  const layout = new ParamLayout(init);
  const { model, outputs } = trainingModel(spec, layoutOf(encoding), layout, { kind: lossKind, delta: p.huber_delta }, { kind: p.optimizer, weightDecay: p.weight_decay }, finite);
  const predictor = valid ? new Predictor({ encoding, spec, threads }, layout, p.predict_batch_size) : undefined;

  // Training batches: the graph gathers the batch's rows of X (fed once, without a copy), its
  // standardised targets and weights from the row indices.
  // [n, heads] row-major; a row that does not fit a head (weight 0) gets label 0 there.
  const yStd = new Float32Array(n * heads);
  const wAll = new Float32Array(n * heads).fill(1);
  ys.forEach((y, h) => {
    const weight = ctx.weights?.[h];
    for (let i = 0; i < n; i++) {
      const wi = weight ? weight[i] : 1;
      wAll[i * heads + h] = wi;
      yStd[i * heads + h] = wi > 0 ? (y[i] - yMean[h]) / yScale[h] : 0;
    }
  });
  const perRow = heads === 1 ? [n] : [n, heads];
  const constant = { X: f32(X.data.subarray(0, n * X.cols), [n, X.cols]), y: f32(yStd, perRow), w: f32(wAll, perRow) };
  const feedBatch = (idx: Int32Array, feeds: Record<string, ort.Tensor>) => {
    Object.assign(feeds, constant);
    feeds.idx = i32(idx, [idx.length]);
  };
  // The trainer minimises valid_loss: the monitored metric, signed; onIter reports it by name.
  const validLoss = (params: Float32Array, stats: Float32Array) => monitorValid!.sign * monitorValid!.score(predictor!.raw(valid!.X, params, stats));
  const onIter: FitContext['onIter'] = (epoch, metrics) => {
    if (!monitorValid || monitorValid.name === 'valid_loss' || !('valid_loss' in metrics)) return ctx.onIter?.(epoch, metrics);
    const { valid_loss: signed, ...rest } = metrics;
    ctx.onIter?.(epoch, { ...rest, [monitorValid.name]: monitorValid.sign * signed });
  };
  const result = await train({
    name: 'mlp',
    model,
    outputs,
    layout,
    optimizer: { kind: p.optimizer, weightDecay: p.weight_decay },
    threads,
    rows: n,
    batchSize: p.batch_size,
    minBatchRows: p.batch_norm ? 2 : 1, // batch statistics need two rows
    epochs,
    patience: p.patience,
    lr: {
      rate: p.learning_rate,
      schedule: p.lr_schedule,
      minRatio: p.min_lr_ratio,
      plateauPatience: p.plateau_patience,
      plateauFactor: p.plateau_factor,
    },
    masks: spec.dropout > 0 ? spec.hidden.map((u, l) => ({ name: `mask${l}`, shape: [u], keep: 1 - spec.dropout })) : [],
    rng,
    feedBatch,
    validLoss: valid ? validLoss : undefined,
    log: ctx.log,
    onIter,
  });
  // With validation rows the best epoch's weights win; otherwise the last epoch's.
  const state: MlpState = {
    task,
    encoding,
    spec,
    yMean,
    yScale,
    params: layout.unpack(result.params, result.stats),
    bestEpoch: result.bestEpoch,
    validated: valid !== undefined,
    threads,
  };
  return fittedHeads(state, p.predict_batch_size);
}

export const mlp = defineModel({
  kind: 'mlp',
  summary: 'multi-layer perceptron trained on onnxruntime (embeddings for categoricals, batch norm, dropout, early stopping)',
  importanceMethod: 'first-layer weight mass: sum of |weights| leaving the standardised input (categoricals: embedding dimensions weighted by their mean |value|)',
  params,
  // With validation rows the best epoch's weights are kept, patience or not.
  usesValidation: () => true,
  async fit(X, y, p, ctx) {
    const { weight, valid, ...rest } = ctx;
    return (await fitMlp(X, [y], p, { ...rest, ...(weight ? { weights: [weight] } : {}), ...(valid ? { valid: { X: valid.X, ys: [valid.y] } } : {}) }))[0];
  },
  joint: (p) => p.multi_target === 'joint',
  fitJoint: fitMlp,
  load(json) {
    const s = json as {
      kind?: string;
      version?: number;
      task: Task;
      encoding: Encoding;
      spec: NetSpec;
      head?: number;
      yMean: number | number[];
      yScale: number | number[];
      bestEpoch: number;
      validated?: boolean;
      threads?: number;
      predictBatch: number;
      params: { name: string; shape: number[]; trainable?: boolean; decay?: boolean; data: number[] }[];
    };
    if (s?.kind !== 'mlp') throw new Error('mlp.load: not an mlp model');
    const heads = fittedHeads(
      {
        task: s.task,
        encoding: s.encoding,
        spec: s.spec,
        yMean: typeof s.yMean === 'number' ? [s.yMean] : s.yMean, // version 2: one head
        yScale: typeof s.yScale === 'number' ? [s.yScale] : s.yScale,
        bestEpoch: s.bestEpoch,
        validated: s.validated ?? false,
        threads: s.threads ?? defaultThreads(),
        params: s.params.map((q) => ({
          name: q.name,
          shape: q.shape,
          trainable: q.trainable ?? true,
          decay: q.decay ?? false,
          data: Float32Array.from(q.data),
        })),
      },
      s.predictBatch ?? 8192,
    );
    return heads[s.head ?? 0];
  },
});
