/**
 * @file `mlp`: a multi-layer perceptron for tabular features, trained on onnxruntime-node
 * (native MLAS kernels, multithreaded) through the kit's small training engine (models/nn): one
 * ONNX graph per training step does forward, loss, gradients and the optimizer update.
 *
 * - Inputs: numeric columns standardised with per-column mean/scale from the training rows
 *   (missing -> 0 after scaling, plus a 0/1 missing indicator per column that had missing
 *   training values); categorical columns through learned embeddings (codes above the training
 *   maximum, negative or missing -> one 'unknown' row of the table). The encoding runs inside
 *   the graph: training batches are raw rows of the float32 Matrix copied into one reusable
 *   buffer, prediction batches are views of it. The learner never holds another copy of its
 *   training rows, and predicts batch by batch.
 * - Target: standardised on the training rows for regression (undone in predict); binary tasks
 *   train a logit with binary cross-entropy and predict probabilities.
 * - Training: Adam (optionally decoupled weight decay) or SGD, cosine or reduce-on-plateau
 *   learning rate, Huber / MAE / MSE loss, per-row weights, seeded shuffling, dropout masks from
 *   the seeded PRNG, early stopping on the fold's validation rows with the best epoch's weights
 *   (and batch-norm statistics) restored.
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
import { defineModel, type FitContext, type FittedModel, type Task } from './model.ts';
import { initParams, inferenceModel, trainingModel, type InputLayout, type NetSpec, type Param } from './mlp/net.ts';
import { rowLossJs, type LossKind } from './nn/losses.ts';
import { stateNames, stepScalars } from './nn/optim.ts';
import { Session, defaultThreads, f32, type ort } from './nn/session.ts';

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
  /** Target standardisation (regression); identity for binary. */
  yMean: number;
  yScale: number;
  params: Param[];
  bestEpoch: number;
  threads: number;
}

function autoEmbeddingDim(levels: number): number {
  return Math.min(16, Math.max(2, Math.round(1.6 * Math.pow(levels, 0.56))));
}

/** Per-column statistics in one row-major pass over X (a column-wise pass strides all of memory per column). */
function fitEncoding(X: Matrix, p: MlpParams): { encoding: Encoding; embeddings: NetSpec['embeddings'] } {
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
  const indicators: NumCol[] = [];
  for (let c = 0; c < cols; c++) {
    if (X.categorical[c]) {
      const levels = Math.floor(Math.max(max[c], -1)) + 1;
      columns.push({ type: 'cat', levels, table: embeddings.length });
      embeddings.push({ rows: levels + 1, dim: p.embedding_dim || autoEmbeddingDim(levels + 1) });
    } else {
      const k = finite[c];
      const mean = k ? sum[c] / k : 0;
      const sd = k ? Math.sqrt(Math.max(0, sumSq[c] / k - mean * mean)) : 0;
      const col: NumCol = { type: 'num', mean, scale: sd > 1e-12 ? sd : 1, slot: slot++, indicator: -1 };
      columns.push(col);
      if (p.missing_indicators && k < rows && k > 0) indicators.push(col);
    }
  }
  for (const col of indicators) col.indicator = slot++;
  return { encoding: { names: [...X.names], columns, numericWidth: slot }, embeddings };
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

function checkColumns(enc: Encoding, X: Matrix): void {
  if (X.cols !== enc.columns.length) throw new Error(`mlp: fitted on ${enc.columns.length} columns, got ${X.cols}`);
}

function paramFeeds(params: readonly Param[], values: ReadonlyMap<string, Float32Array>, into: Record<string, ort.Tensor>): void {
  for (const q of params) into[q.name] = f32(values.get(q.name)!, q.shape);
}

/** Forward-only predictor: one inference session, fed batch by batch from X. */
class Predictor {
  private readonly session: Session;

  constructor(
    private readonly state: Pick<MlpState, 'encoding' | 'spec' | 'params' | 'threads'>,
    private readonly batch: number,
  ) {
    this.session = new Session(inferenceModel(state.spec, layoutOf(state.encoding), state.params), state.threads, ['out']);
  }

  /** Raw network outputs (training scale) for all rows of X. */
  raw(X: Matrix, values: ReadonlyMap<string, Float32Array>): Float64Array {
    checkColumns(this.state.encoding, X);
    const out = new Float64Array(X.rows);
    const feeds: Record<string, ort.Tensor> = {};
    paramFeeds(this.state.params, values, feeds);
    for (let from = 0; from < X.rows; from += this.batch) {
      const to = Math.min(X.rows, from + this.batch);
      feeds.rows = f32(X.data.subarray(from * X.cols, to * X.cols), [to - from, X.cols]); // a view: no copy
      out.set(this.session.run(feeds).out.data as Float32Array, from);
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

function fitted(state: MlpState, predictBatch: number): FittedModel {
  let predictor: Predictor | undefined; // built on first predict, kept for the next calls
  const values = new Map(state.params.map((q) => [q.name, q.data]));
  return Object.freeze({
    kind: 'mlp',
    predict(X: Matrix): Float64Array {
      predictor ??= new Predictor(state, predictBatch);
      const raw = predictor.raw(X, values);
      for (let i = 0; i < raw.length; i++)
        raw[i] = state.task === 'binary' ? 1 / (1 + Math.exp(-raw[i])) : raw[i] * state.yScale + state.yMean;
      return raw;
    },
    importance: () => importanceOf(state),
    toJSON: () => ({
      kind: 'mlp',
      version: 2,
      task: state.task,
      encoding: state.encoding,
      spec: state.spec,
      yMean: state.yMean,
      yScale: state.yScale,
      bestEpoch: state.bestEpoch,
      threads: state.threads,
      predictBatch,
      params: state.params.map((p) => ({ name: p.name, shape: p.shape, trainable: p.trainable, decay: p.decay, data: Array.from(p.data) })),
    }),
  });
}

/** Dropout masks for one batch, scaled by 1/keep, from the seeded PRNG. */
function fillMask(mask: Float32Array, n: number, keep: number, rng: Random): void {
  const threshold = keep * 4294967296;
  const scale = 1 / keep;
  for (let i = 0; i < n; i++) mask[i] = rng.nextU32() < threshold ? scale : 0;
}

async function fitMlp(X: Matrix, y: Float64Array, p: MlpParams, ctx: FitContext): Promise<FittedModel> {
  const n = X.rows;
  if (y.length !== n) throw new Error(`mlp: ${n} rows but ${y.length} labels`);
  if (n < 2) throw new UserError('mlp: needs at least 2 training rows');
  if (X.cols === 0) throw new UserError('mlp: no input columns');
  const rng = new Random(ctx.seed).fork('mlp');
  const task = ctx.task;
  const threads = p.num_threads || defaultThreads();

  const { encoding, embeddings } = fitEncoding(X, p);
  const spec: NetSpec = {
    numeric: encoding.numericWidth,
    embeddings,
    hidden: [...p.hidden],
    batchNorm: p.batch_norm,
    activation: p.activation,
    dropout: p.dropout,
  };
  const weight = ctx.weight;
  if (weight && weight.length !== n) throw new Error(`mlp: ${n} rows but ${weight.length} weights`);
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const wi = weight ? weight[i] : 1;
    if (!Number.isFinite(y[i])) throw new UserError(`mlp: label of training row ${i} is ${y[i]}`);
    if (!(wi >= 0)) throw new UserError(`mlp: weight of training row ${i} is ${wi}`);
    wsum += wi;
  }
  if (!(wsum > 0)) throw new UserError('mlp: all training weights are 0');

  // Target scaling (weighted, training rows only).
  let yMean = 0;
  let yScale = 1;
  if (task === 'regression') {
    for (let i = 0; i < n; i++) yMean += (weight ? weight[i] : 1) * y[i];
    yMean /= wsum;
    let v = 0;
    for (let i = 0; i < n; i++) v += (weight ? weight[i] : 1) * (y[i] - yMean) ** 2;
    const sd = Math.sqrt(v / wsum);
    yScale = sd > 1e-12 ? sd : 1;
  }

  const lossKind: LossKind = task === 'binary' ? 'logloss' : p.loss;
  const init = initParams(spec, rng.fork('init'));
  const shuffleRng = rng.fork('shuffle');
  const dropoutRng = rng.fork('dropout');
  const valid = ctx.valid && ctx.valid.y.some((v) => Number.isFinite(v)) ? ctx.valid : undefined;
  if (valid) checkColumns(encoding, valid.X);

  const layers = [...spec.hidden, 1].join('-');
  ctx.log?.(
    `mlp: ${n} rows, ${X.cols} columns -> ${encoding.numericWidth} numeric inputs + ${embeddings.length} embeddings` +
      ` (${embeddings.map((e) => `${e.rows - 1}x${e.dim}`).join(', ') || 'none'}), layers ${layers}, ${task === 'binary' ? 'cross-entropy' : p.loss}` +
      `, ${p.optimizer}, batch ${p.batch_size}, up to ${p.epochs} epochs${valid && p.patience ? `, patience ${p.patience}` : ''}` +
      `; onnxruntime ${threads} thread${threads === 1 ? '' : 's'}`,
  );

  const { model, outputs } = trainingModel(spec, layoutOf(encoding), init, { kind: lossKind, delta: p.huber_delta }, { kind: p.optimizer, weightDecay: p.weight_decay });
  const session = new Session(model, threads, outputs);
  const predictor = valid ? new Predictor({ encoding, spec, params: init, threads }, p.predict_batch_size) : undefined;
  try {
    // Parameters and optimizer state: name -> current array (replaced by each step's outputs).
    const values = new Map<string, Float32Array>(init.map((q) => [q.name, q.data]));
    for (const q of init) if (q.trainable) for (const s of stateNames(p.optimizer, q.name)) values.set(s, new Float32Array(q.data.length));
    const stateShapes = init.flatMap((q) => (q.trainable ? stateNames(p.optimizer, q.name).map((s) => [s, q.shape] as const) : []));

    const batch = Math.min(p.batch_size, n);
    const rowBuf = new Float32Array(batch * X.cols);
    const yb = new Float32Array(batch);
    const wb = new Float32Array(batch);
    const masks = spec.dropout > 0 ? spec.hidden.map((u) => new Float32Array(batch * u)) : [];
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;

    const stepsPerEpoch = Math.ceil(n / batch);
    const totalSteps = stepsPerEpoch * p.epochs;
    const minLr = p.learning_rate * p.min_lr_ratio;
    let plateauLr = p.learning_rate;
    let plateauBest = Infinity;
    let plateauWait = 0;
    let step = 0;
    let bestLoss = Infinity;
    let bestEpoch = -1;
    let best: Map<string, Float32Array> | undefined;
    let lastLr = p.learning_rate;
    let stoppedEarly = false;
    const feeds: Record<string, ort.Tensor> = {};

    for (let epoch = 0; epoch < p.epochs; epoch++) {
      shuffleRng.shuffle(order as unknown as number[]);
      let lossSum = 0;
      let lossRows = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        const from = s * batch;
        const to = Math.min(n, from + batch);
        const rows = to - from;
        if (p.batch_norm && rows < 2) continue; // batch statistics need two rows
        const lr =
          p.lr_schedule === 'cosine'
            ? minLr + 0.5 * (p.learning_rate - minLr) * (1 + Math.cos((Math.PI * step) / totalSteps))
            : p.lr_schedule === 'plateau'
              ? plateauLr
              : p.learning_rate;
        lastLr = lr;
        step++;
        for (let i = 0; i < rows; i++) {
          const r = order[from + i];
          rowBuf.set(X.data.subarray(r * X.cols, (r + 1) * X.cols), i * X.cols);
          yb[i] = (y[r] - yMean) / yScale;
          wb[i] = weight ? weight[r] : 1;
        }
        feeds.rows = f32(rows === batch ? rowBuf : rowBuf.subarray(0, rows * X.cols), [rows, X.cols]);
        feeds.y = f32(rows === batch ? yb : yb.subarray(0, rows), [rows]);
        feeds.w = f32(rows === batch ? wb : wb.subarray(0, rows), [rows]);
        masks.forEach((m, l) => {
          const units = spec.hidden[l];
          fillMask(m, rows * units, 1 - spec.dropout, dropoutRng);
          feeds[`mask${l}`] = f32(rows === batch ? m : m.subarray(0, rows * units), [rows, units]);
        });
        paramFeeds(init, values, feeds);
        for (const [name, shape] of stateShapes) feeds[name] = f32(values.get(name)!, shape);
        for (const [k, v] of Object.entries(stepScalars(p.optimizer, lr, step))) feeds[k] = f32(Float32Array.of(v), []);
        const out = session.run(feeds);
        for (const o of outputs) if (o !== 'loss') values.set(o.slice(0, -'.next'.length), out[o].data as Float32Array);
        lossSum += (out.loss.data as Float32Array)[0] * rows;
        lossRows += rows;
      }
      const trainLoss = lossRows ? lossSum / lossRows : NaN;
      if (!Number.isFinite(trainLoss)) throw new Error(`mlp: training loss is ${trainLoss} at epoch ${epoch + 1}; lower learning_rate`);
      const metrics: Record<string, number> = { train_loss: trainLoss, lr: lastLr };
      let monitor = trainLoss;
      if (valid && predictor) {
        const raw = predictor.raw(valid.X, values);
        let s = 0;
        let m = 0;
        for (let i = 0; i < raw.length; i++)
          if (Number.isFinite(valid.y[i])) {
            s += rowLossJs(lossKind, raw[i], (valid.y[i] - yMean) / yScale, p.huber_delta);
            m++;
          }
        monitor = m ? s / m : NaN;
        metrics.valid_loss = monitor;
        if (monitor < bestLoss) {
          bestLoss = monitor;
          bestEpoch = epoch;
          best = new Map(init.map((q) => [q.name, values.get(q.name)!])); // step outputs are fresh arrays: no copy needed
        }
      }
      ctx.onIter?.(epoch + 1, metrics);
      if (p.lr_schedule === 'plateau') {
        if (monitor < plateauBest) {
          plateauBest = monitor;
          plateauWait = 0;
        } else if (++plateauWait >= p.plateau_patience) {
          plateauLr = Math.max(minLr, plateauLr * p.plateau_factor);
          plateauWait = 0;
        }
      }
      if (valid && p.patience > 0 && epoch - bestEpoch >= p.patience) {
        ctx.log?.(`mlp: early stop after epoch ${epoch + 1}; best epoch ${bestEpoch + 1} (valid_loss ${bestLoss.toPrecision(5)})`);
        stoppedEarly = true;
        break;
      }
    }
    // With validation rows the best epoch's weights win; otherwise the last epoch's.
    const source = best ?? values;
    if (valid && !stoppedEarly) ctx.log?.(`mlp: best epoch ${bestEpoch + 1} of ${p.epochs} (valid_loss ${bestLoss.toPrecision(5)})`);
    const state: MlpState = {
      task,
      encoding,
      spec,
      yMean,
      yScale,
      params: init.map((q) => ({ ...q, data: source.get(q.name)! })),
      bestEpoch: valid ? bestEpoch + 1 : p.epochs,
      threads,
    };
    return fitted(state, p.predict_batch_size);
  } finally {
    session.dispose();
  }
}

export const mlp = defineModel({
  kind: 'mlp',
  summary: 'multi-layer perceptron trained on onnxruntime (embeddings for categoricals, batch norm, dropout, early stopping)',
  importanceMethod: 'first-layer weight mass: sum of |weights| leaving the standardised input (categoricals: embedding dimensions weighted by their mean |value|)',
  params,
  fit: fitMlp,
  load(json) {
    const s = json as {
      kind?: string;
      version?: number;
      task: Task;
      encoding: Encoding;
      spec: NetSpec;
      yMean: number;
      yScale: number;
      bestEpoch: number;
      threads?: number;
      predictBatch: number;
      params: { name: string; shape: number[]; trainable?: boolean; decay?: boolean; data: number[] }[];
    };
    if (s?.kind !== 'mlp') throw new Error('mlp.load: not an mlp model');
    return fitted(
      {
        task: s.task,
        encoding: s.encoding,
        spec: s.spec,
        yMean: s.yMean,
        yScale: s.yScale,
        bestEpoch: s.bestEpoch,
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
  },
});
