/**
 * @file `mlp`: a multi-layer perceptron on TensorFlow.js for tabular features.
 *
 * - Backend: `@tensorflow/tfjs-node` when installed, else wasm, else cpu (param `backend`);
 *   the choice goes to the run log and `mlpBackend()` returns it.
 * - Inputs: numeric columns standardised on the training rows (missing -> 0 after scaling, plus
 *   a 0/1 missing indicator per column that had missing training values); categorical columns
 *   through learned embeddings (codes above the training maximum, negative or missing -> one
 *   'unknown' row of the table).
 * - Target: standardised on the training rows for regression (undone in predict); binary tasks
 *   train a logit with binary cross-entropy and predict probabilities.
 * - Training: Adam (optionally decoupled weight decay), cosine or reduce-on-plateau learning
 *   rate, Huber / MAE / MSE loss, per-row weights, seeded shuffling, early stopping on the
 *   fold's validation rows with the best epoch's weights (and batch-norm statistics) restored.
 * - The fitted model is plain arrays: prediction uploads them once per call and runs in batches,
 *   so nothing stays allocated between calls (no tensor leak across folds).
 *
 * Same seed + same backend = identical predictions.
 *
 * @example
 *   - id: mlp
 *     kind: mlp
 *     params: { hidden: [256, 64], dropout: 0.2, loss: huber, epochs: 60, patience: 8 }
 */
import { z } from 'zod';
import type * as TF from '@tensorflow/tfjs';
import { columnStats, type Matrix } from '../core/matrix.ts';
import { Random } from '../core/random.ts';
import { UserError } from '../core/errors.ts';
import { defineModel, type FitContext, type FittedModel, type Task } from './model.ts';
import { mlpBackend, readyTf, type Tf } from './mlp/backend.ts';
import { BN_MOMENTUM, forward, initParams, type BatchInputs, type NetSpec } from './mlp/net.ts';

export { mlpBackend, availableMlpBackends } from './mlp/backend.ts';

const params = z
  .object({
    backend: z
      .enum(['auto', 'wasm', 'cpu', 'node'])
      .default('auto')
      .describe('tfjs backend: auto = tfjs-node if installed, else wasm, else cpu'),
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

/** Input encoding fitted on the training rows. */
interface Encoding {
  names: string[];
  /** Per input column: numeric scaling (with the indicator's slot, -1 if none) or categorical table size. */
  columns: ({ type: 'num'; mean: number; scale: number; slot: number; indicator: number } | { type: 'cat'; levels: number; table: number })[];
  numericWidth: number;
}

interface MlpState {
  task: Task;
  encoding: Encoding;
  spec: NetSpec;
  /** Target standardisation (regression); identity for binary. */
  yMean: number;
  yScale: number;
  params: { name: string; shape: number[]; data: Float32Array }[];
  bestEpoch: number;
  backend: string;
}

function autoEmbeddingDim(levels: number): number {
  return Math.min(16, Math.max(2, Math.round(1.6 * Math.pow(levels, 0.56))));
}

function fitEncoding(X: Matrix, p: MlpParams): { encoding: Encoding; embeddings: NetSpec['embeddings'] } {
  const columns: Encoding['columns'] = [];
  const embeddings: NetSpec['embeddings'] = [];
  let slot = 0;
  const indicators: number[] = [];
  for (let c = 0; c < X.cols; c++) {
    if (X.categorical[c]) {
      let max = -1;
      for (let r = 0; r < X.rows; r++) {
        const v = X.data[r * X.cols + c];
        if (Number.isFinite(v) && v >= 0 && v > max) max = v;
      }
      const levels = Math.floor(max) + 1;
      columns.push({ type: 'cat', levels, table: embeddings.length });
      embeddings.push({ rows: levels + 1, dim: p.embedding_dim || autoEmbeddingDim(levels + 1) });
    } else {
      const { mean, scale, finite } = columnStats(X, c);
      columns.push({ type: 'num', mean, scale, slot: slot++, indicator: -1 });
      if (p.missing_indicators && finite < X.rows && finite > 0) indicators.push(columns.length - 1);
    }
  }
  for (const c of indicators) (columns[c] as { indicator: number }).indicator = slot++;
  return { encoding: { names: [...X.names], columns, numericWidth: slot }, embeddings };
}

/** Encodes rows [from, to) of X: numeric block (row-major) and one Int32Array of table rows per categorical column. */
function encodeRows(enc: Encoding, X: Matrix, from: number, to: number): { numeric: Float32Array; codes: Int32Array[] } {
  const n = to - from;
  const numeric = new Float32Array(n * enc.numericWidth);
  const codes: Int32Array[] = [];
  enc.columns.forEach((col, c) => {
    if (col.type === 'cat') {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = X.data[(from + i) * X.cols + c];
        out[i] = Number.isFinite(v) && v >= 0 && v < col.levels ? Math.floor(v) : col.levels;
      }
      codes[col.table] = out;
    } else {
      const w = enc.numericWidth;
      for (let i = 0; i < n; i++) {
        const v = X.data[(from + i) * X.cols + c];
        if (Number.isFinite(v)) numeric[i * w + col.slot] = (v - col.mean) / col.scale;
        else if (col.indicator >= 0) numeric[i * w + col.indicator] = 1;
      }
    }
  });
  return { numeric, codes };
}

function checkColumns(enc: Encoding, X: Matrix): void {
  if (X.cols !== enc.columns.length) throw new Error(`mlp: fitted on ${enc.columns.length} columns, got ${X.cols}`);
}

/** Per-row loss on the training scale (standardised target or logit), in float64. */
function rowLoss(task: Task, loss: MlpParams['loss'], delta: number, out: number, y: number): number {
  if (task === 'binary') return Math.max(out, 0) - out * y + Math.log1p(Math.exp(-Math.abs(out)));
  const e = Math.abs(out - y);
  if (loss === 'mse') return e * e;
  if (loss === 'mae') return e;
  return e <= delta ? 0.5 * e * e : delta * (e - 0.5 * delta);
}

/** Weighted mean loss of a batch, as a tfjs scalar. */
function batchLoss(tf: Tf, task: Task, loss: MlpParams['loss'], delta: number, out: TF.Tensor1D, y: TF.Tensor1D, w: TF.Tensor1D): TF.Scalar {
  let l: TF.Tensor1D;
  if (task === 'binary') {
    // max(x, 0) - x*y + log(1 + exp(-|x|)), stable for any logit
    l = tf.add(tf.sub(tf.relu(out), tf.mul(out, y)), tf.log1p(tf.exp(tf.neg(tf.abs(out)))));
  } else {
    const e = tf.abs(tf.sub(out, y)) as TF.Tensor1D;
    if (loss === 'mse') l = tf.square(e);
    else if (loss === 'mae') l = e;
    else {
      const q = tf.minimum(e, delta);
      l = tf.add(tf.mul(tf.square(q), 0.5), tf.mul(tf.sub(e, q), delta));
    }
  }
  // A batch of zero-weight rows contributes nothing (instead of 0/0).
  return tf.div(tf.sum(tf.mul(l, w)), tf.maximum(tf.sum(w), 1e-12)) as TF.Scalar;
}

/** Raw network outputs (training scale) for all rows of X, in batches; weights uploaded once. */
function rawPredict(tf: Tf, state: Pick<MlpState, 'encoding' | 'spec'>, weights: Map<string, TF.Tensor>, X: Matrix, batch: number): Float64Array {
  const out = new Float64Array(X.rows);
  for (let from = 0; from < X.rows; from += batch) {
    const to = Math.min(X.rows, from + batch);
    const { numeric, codes } = encodeRows(state.encoding, X, from, to);
    const values = tf.tidy(() => {
      const inputs: BatchInputs = {
        numeric: state.encoding.numericWidth ? tf.tensor2d(numeric, [to - from, state.encoding.numericWidth]) : null,
        codes: codes.map((c) => tf.tensor1d(c, 'int32')),
      };
      return forward(tf, state.spec, weights, inputs).dataSync();
    });
    for (let i = 0; i < values.length; i++) out[from + i] = values[i];
  }
  return out;
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
  return Object.freeze({
    kind: 'mlp',
    predict(X: Matrix): Float64Array {
      checkColumns(state.encoding, X);
      const tf = readyTf();
      const weights = new Map<string, TF.Tensor>();
      try {
        for (const p of state.params) weights.set(p.name, tf.tensor(p.data, p.shape, 'float32'));
        const raw = rawPredict(tf, state, weights, X, predictBatch);
        for (let i = 0; i < raw.length; i++)
          raw[i] = state.task === 'binary' ? 1 / (1 + Math.exp(-raw[i])) : raw[i] * state.yScale + state.yMean;
        return raw;
      } finally {
        for (const t of weights.values()) t.dispose();
      }
    },
    importance: () => importanceOf(state),
    toJSON: () => ({
      kind: 'mlp',
      version: 1,
      task: state.task,
      encoding: state.encoding,
      spec: state.spec,
      yMean: state.yMean,
      yScale: state.yScale,
      bestEpoch: state.bestEpoch,
      backend: state.backend,
      predictBatch,
      params: state.params.map((p) => ({ name: p.name, shape: p.shape, data: Array.from(p.data) })),
    }),
  });
}

async function fitMlp(X: Matrix, y: Float64Array, p: MlpParams, ctx: FitContext): Promise<FittedModel> {
  const n = X.rows;
  if (y.length !== n) throw new Error(`mlp: ${n} rows but ${y.length} labels`);
  if (n < 2) throw new UserError('mlp: needs at least 2 training rows');
  if (X.cols === 0) throw new UserError('mlp: no input columns');
  const backend = await mlpBackend(p.backend, ctx.log);
  const tf = readyTf();
  const rng = new Random(ctx.seed).fork('mlp');
  const task = ctx.task;

  const { encoding, embeddings } = fitEncoding(X, p);
  const spec: NetSpec = {
    numeric: encoding.numericWidth,
    embeddings,
    hidden: [...p.hidden],
    batchNorm: p.batch_norm,
    activation: p.activation,
    dropout: p.dropout,
  };
  const weight = ctx.weight ?? new Float64Array(n).fill(1);
  if (weight.length !== n) throw new Error(`mlp: ${n} rows but ${weight.length} weights`);
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(y[i])) throw new UserError(`mlp: label of training row ${i} is ${y[i]}`);
    if (!(weight[i] >= 0)) throw new UserError(`mlp: weight of training row ${i} is ${weight[i]}`);
    wsum += weight[i];
  }
  if (!(wsum > 0)) throw new UserError('mlp: all training weights are 0');

  // Target scaling (weighted, training rows only).
  let yMean = 0;
  let yScale = 1;
  if (task === 'regression') {
    let ws = 0;
    for (let i = 0; i < n; i++) {
      ws += weight[i];
      yMean += weight[i] * y[i];
    }
    yMean /= ws;
    let v = 0;
    for (let i = 0; i < n; i++) v += weight[i] * (y[i] - yMean) ** 2;
    const sd = Math.sqrt(v / ws);
    yScale = sd > 1e-12 ? sd : 1;
  }
  const ys = new Float32Array(n);
  for (let i = 0; i < n; i++) ys[i] = (y[i] - yMean) / yScale;

  const init = initParams(spec, rng.fork('init'));
  const shuffleRng = rng.fork('shuffle');
  const dropoutRng = rng.fork('dropout');
  const valid = ctx.valid && ctx.valid.y.some((v) => Number.isFinite(v)) ? ctx.valid : undefined;
  if (valid) checkColumns(encoding, valid.X);
  const validYs = valid ? Float64Array.from(valid.y, (v) => (v - yMean) / yScale) : undefined;

  const layers = [...spec.hidden, 1].join('-');
  ctx.log?.(
    `mlp: ${n} rows, ${X.cols} columns -> ${encoding.numericWidth} numeric inputs + ${embeddings.length} embeddings` +
      ` (${embeddings.map((e) => `${e.rows - 1}x${e.dim}`).join(', ') || 'none'}), layers ${layers}, ${task === 'binary' ? 'cross-entropy' : p.loss}` +
      `, batch ${p.batch_size}, up to ${p.epochs} epochs${valid && p.patience ? `, patience ${p.patience}` : ''}`,
  );

  // Everything allocated below is disposed in `finally`.
  const vars = new Map<string, TF.Variable>();
  const adamM = new Map<string, TF.Variable>();
  const adamV = new Map<string, TF.Variable>();
  let best: Map<string, TF.Tensor> | undefined;
  const data: TF.Tensor[] = [];
  try {
    const variable = (t: TF.Tensor, trainable: boolean) => {
      const v = tf.variable(t, trainable);
      t.dispose(); // the variable holds its own reference to the data
      return v;
    };
    for (const q of init) {
      vars.set(q.name, variable(tf.tensor(q.data, q.shape, 'float32'), q.trainable));
      if (q.trainable) {
        adamM.set(q.name, variable(tf.zeros(q.shape), false));
        adamV.set(q.name, variable(tf.zeros(q.shape), false));
      }
    }
    const trainable = init.filter((q) => q.trainable);
    const trainVars = trainable.map((q) => vars.get(q.name)!);
    const enc = encodeRows(encoding, X, 0, n);
    const Xt = encoding.numericWidth ? tf.tensor2d(enc.numeric, [n, encoding.numericWidth]) : null;
    const Ct = enc.codes.map((c) => tf.tensor1d(c, 'int32'));
    const Yt = tf.tensor1d(ys);
    const Wt = tf.tensor1d(Float32Array.from(weight));
    data.push(...(Xt ? [Xt] : []), ...Ct, Yt, Wt);

    const order = Array.from({ length: n }, (_, i) => i);
    const stepsPerEpoch = Math.ceil(n / p.batch_size);
    const totalSteps = stepsPerEpoch * p.epochs;
    const minLr = p.learning_rate * p.min_lr_ratio;
    let plateauLr = p.learning_rate;
    let plateauBest = Infinity;
    let plateauWait = 0;
    const b1 = 0.9;
    const b2 = 0.999;
    const eps = 1e-7;
    let step = 0;
    let bestLoss = Infinity;
    let bestEpoch = -1;
    let lastLr = p.learning_rate;
    let stoppedEarly = false;

    for (let epoch = 0; epoch < p.epochs; epoch++) {
      shuffleRng.shuffle(order);
      let lossSum = 0;
      let lossRows = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        const from = s * p.batch_size;
        const to = Math.min(n, from + p.batch_size);
        if (p.batch_norm && to - from < 2) continue; // batch statistics need two rows
        const lr =
          p.lr_schedule === 'cosine'
            ? minLr + 0.5 * (p.learning_rate - minLr) * (1 + Math.cos((Math.PI * step) / totalSteps))
            : p.lr_schedule === 'plateau'
              ? plateauLr
              : p.learning_rate;
        lastLr = lr;
        step++;
        const stats: { layer: number; mean: TF.Tensor1D; variance: TF.Tensor1D }[] = [];
        const idx = tf.tensor1d(Int32Array.from(order.slice(from, to)), 'int32');
        try {
          const { value, grads } = tf.variableGrads(() => {
            const inputs: BatchInputs = { numeric: Xt ? tf.gather(Xt, idx) : null, codes: Ct.map((c) => tf.gather(c, idx)) };
            const out = forward(tf, spec, vars, inputs, {
              rng: dropoutRng,
              onBatchStats: (layer, mean, variance) => stats.push({ layer, mean, variance }),
            });
            return batchLoss(tf, task, p.loss, p.huber_delta, out, tf.gather(Yt, idx), tf.gather(Wt, idx));
          }, trainVars);
          lossSum += value.dataSync()[0] * (to - from);
          lossRows += to - from;
          value.dispose();
          tf.tidy(() => {
            const c1 = 1 - b1 ** step;
            const c2 = 1 - b2 ** step;
            for (const q of trainable) {
              const v = vars.get(q.name)!;
              const g = grads[v.name];
              const m = adamM.get(q.name)!;
              const s2 = adamV.get(q.name)!;
              m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
              s2.assign(tf.add(tf.mul(s2, b2), tf.mul(tf.square(g), 1 - b2)));
              let upd = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(s2, c2)), eps));
              if (q.decay && p.weight_decay > 0) upd = tf.add(upd, tf.mul(v, p.weight_decay));
              v.assign(tf.sub(v, tf.mul(upd, lr)));
            }
            for (const st of stats) {
              const mm = vars.get(`mean${st.layer}`)!;
              const mv = vars.get(`var${st.layer}`)!;
              mm.assign(tf.add(tf.mul(mm, BN_MOMENTUM), tf.mul(st.mean, 1 - BN_MOMENTUM)));
              mv.assign(tf.add(tf.mul(mv, BN_MOMENTUM), tf.mul(st.variance, 1 - BN_MOMENTUM)));
            }
          });
          for (const g of Object.values(grads)) g.dispose();
        } finally {
          idx.dispose();
          for (const st of stats) {
            st.mean.dispose();
            st.variance.dispose();
          }
        }
      }
      const trainLoss = lossRows ? lossSum / lossRows : NaN;
      if (!Number.isFinite(trainLoss)) throw new Error(`mlp: training loss is ${trainLoss} at epoch ${epoch + 1}; lower learning_rate`);
      const metrics: Record<string, number> = { train_loss: trainLoss, lr: lastLr };
      let monitor = trainLoss;
      if (valid && validYs) {
        const raw = rawPredict(tf, { encoding, spec }, vars as Map<string, TF.Tensor>, valid.X, p.predict_batch_size);
        let s = 0;
        let m = 0;
        for (let i = 0; i < raw.length; i++)
          if (Number.isFinite(validYs[i])) {
            s += rowLoss(task, p.loss, p.huber_delta, raw[i], validYs[i]);
            m++;
          }
        monitor = m ? s / m : NaN;
        metrics.valid_loss = monitor;
        if (monitor < bestLoss) {
          bestLoss = monitor;
          bestEpoch = epoch;
          if (best) for (const t of best.values()) t.dispose();
          best = new Map([...vars].map(([k, v]) => [k, tf.keep(v.clone())] as [string, TF.Tensor]));
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
    const source: Map<string, TF.Tensor> = best ?? (vars as Map<string, TF.Tensor>);
    const out: MlpState['params'] = init.map((q) => ({ name: q.name, shape: q.shape, data: source.get(q.name)!.dataSync() as Float32Array }));
    if (valid && !stoppedEarly)
      ctx.log?.(`mlp: best epoch ${bestEpoch + 1} of ${p.epochs} (valid_loss ${bestLoss.toPrecision(5)})`);
    const state: MlpState = {
      task,
      encoding,
      spec,
      yMean,
      yScale,
      params: out.map((q) => ({ ...q, data: Float32Array.from(q.data) })),
      bestEpoch: valid ? bestEpoch + 1 : p.epochs,
      backend,
    };
    return fitted(state, p.predict_batch_size);
  } finally {
    for (const t of [...vars.values(), ...adamM.values(), ...adamV.values(), ...data, ...(best?.values() ?? [])]) t.dispose();
  }
}

export const mlp = defineModel({
  kind: 'mlp',
  summary: 'multi-layer perceptron on TensorFlow.js (embeddings for categoricals, early stopping; tfjs-node, wasm or cpu)',
  params,
  fit: fitMlp,
  load(json) {
    const s = json as {
      kind?: string;
      task: Task;
      encoding: Encoding;
      spec: NetSpec;
      yMean: number;
      yScale: number;
      bestEpoch: number;
      backend: string;
      predictBatch: number;
      params: { name: string; shape: number[]; data: number[] }[];
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
        backend: s.backend,
        params: s.params.map((q) => ({ name: q.name, shape: q.shape, data: Float32Array.from(q.data) })),
      },
      s.predictBatch ?? 8192,
    );
  },
});
