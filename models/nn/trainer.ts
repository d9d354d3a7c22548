/**
 * @file The training loop of the kit's neural learners, on one training-step graph per model.
 *
 * `addTrainingStep` turns a forward graph's loss into a training step: gradients of every
 * trainable parameter (see ParamLayout), concatenated into one flat vector, one fused optimizer
 * update over it (optim.ts), and the batch-norm style statistics the forward pass updated. Graph
 * outputs: `loss`, `params.next`, `m.next` and `v.next` (adam), `stats.next` (if the layout has
 * statistics).
 *
 * `train` runs it: epochs of seeded shuffled batches (the model fills its own batch inputs in
 * `feedBatch`), dropout masks from the seeded PRNG (input `<name>` [rows, ...shape], values 0 or
 * 1/keep), a cosine / plateau / constant / piecewise learning rate, early stopping on `validLoss` with the
 * best epoch's vectors returned, and one `onIter(epoch, metrics)` per epoch. The parameter,
 * state and statistics vectors are written into two reused buffers each (the runtime writes
 * step t+1's values beside step t's), so a step allocates nothing large.
 *
 * @example
 *   const layout = new ParamLayout(initParams(...));
 *   const g = new Graph();
 *   const w = layout.inputs(g);
 *   const { loss, statsNext } = forwardAndLoss(g, w);    // the model's own inputs and masks
 *   const outputs = addTrainingStep(g, layout, w, loss, statsNext, { kind: 'adam', weightDecay: 0 });
 *   const r = train({ name: 'mynet', model: g.toModel(), outputs, layout, optimizer, threads: 2, rows: n,
 *     batchSize: 256, epochs: 50, patience: 5, lr: { rate: 1e-3, schedule: 'cosine' },
 *     masks: [{ name: 'mask0', shape: [64], keep: 0.9 }], rng,
 *     feedBatch: (idx, feeds) => { feeds.x = ...; feeds.y = ...; feeds.w = ... },
 *     validLoss: (params, stats) => ... });
 *   const fitted = layout.unpack(r.params, r.stats);        // Param[] of the best epoch
 */
import type { Random } from '../../core/random.ts';
import type { Graph, T } from './graph.ts';
import { addFlatUpdate, stateNames, stepScalars, type OptimizerSpec } from './optim.ts';
import type { ParamLayout } from './params.ts';
import { Session, f32, type ort } from './session.ts';
import { pauser } from '../../core/event-loop.ts';

/**
 * Appends gradients, the optimizer update and the statistics output to g (whose parameters
 * came from `layout.inputs(g)` as `w`); returns the training graph's output names.
 * `statsNext`: the updated values of non-trainable parameters (batch-norm running statistics).
 */
export function addTrainingStep(
  g: Graph,
  layout: ParamLayout,
  w: ReadonlyMap<string, T>,
  loss: T,
  statsNext: ReadonlyMap<string, T>,
  optimizer: OptimizerSpec,
): string[] {
  g.output(loss, 'loss');
  const trainable = layout.params.filter((p) => p.trainable);
  const grads = g.gradients(
    loss,
    trainable.map((p) => w.get(p.name)!),
  );
  const decay = optimizer.weightDecay > 0 ? g.constant(layout.decayMask(), [layout.size]) : null;
  addFlatUpdate(g, layout.flatInput(), layout.flatten(g, grads), decay, optimizer);
  const outputs = ['loss', 'params.next', ...stateNames(optimizer.kind).map((s) => `${s}.next`)];
  if (layout.statsSize) {
    g.output(layout.flattenStats(g, w, statsNext), 'stats.next');
    outputs.push('stats.next');
  }
  return outputs;
}

export interface LrSchedule {
  /** Peak (cosine) or starting rate. */
  rate: number;
  schedule: 'cosine' | 'plateau' | 'constant' | 'piecewise';
  /** Floor as a fraction of `rate` (default 0.01). */
  minRatio?: number;
  /** Plateau: epochs without improvement before the rate is multiplied by `plateauFactor`. */
  plateauPatience?: number;
  plateauFactor?: number;
  /** Piecewise: fractions of the training steps after which the rate is multiplied by `factor`. */
  milestones?: number[];
  factor?: number;
}

/** A dropout mask input: [rows, ...shape] of 0 or 1/keep. */
export interface MaskSpec {
  name: string;
  shape: readonly number[];
  keep: number;
}

export interface TrainSpec {
  /** The learner's name, for messages. */
  name: string;
  /** The training-step graph and its outputs (from addTrainingStep). */
  model: Uint8Array;
  outputs: string[];
  layout: ParamLayout;
  optimizer: OptimizerSpec;
  threads: number;
  /** Training rows; batches are index lists into 0..rows-1. */
  rows: number;
  batchSize: number;
  /** Batches with fewer rows are skipped (batch statistics need 2). Default 1. */
  minBatchRows?: number;
  epochs: number;
  /** Early stopping: epochs without validation improvement (0 = off; needs validLoss). */
  patience: number;
  lr: LrSchedule;
  masks?: MaskSpec[];
  /** Forked for shuffling and for dropout masks. */
  rng: Random;
  /** Sets the model's own batch inputs (features, `y`, weights, ...) for training rows idx. */
  feedBatch(idx: Int32Array, feeds: Record<string, ort.Tensor>): void;
  /** Validation loss of the given vectors (lower is better); absent: the last epoch wins. */
  validLoss?(params: Float32Array, stats: Float32Array): number;
  log?: (line: string) => void;
  onIter?: (iteration: number, metrics: Record<string, number>) => void;
}

export interface TrainResult {
  /** The best epoch's vectors (the last epoch's without validLoss). */
  params: Float32Array;
  stats: Float32Array;
  /** 1-based epoch the vectors come from. */
  bestEpoch: number;
  bestValidLoss: number;
  epochsRun: number;
}

/**
 * Dropout mask of n values, 0 or 1/keep, from the seeded PRNG: each 32-bit draw decides two
 * entries (16 bits each; keep is rounded to a multiple of 1/65536 and the scale matches it, so
 * the mask's mean stays 1). `draws`: scratch of at least ceil(n / 2) values.
 */
export function fillMask(mask: Float32Array, n: number, keep: number, rng: Random, draws: Uint32Array): void {
  const threshold = Math.max(1, Math.round(keep * 65536));
  const scale = 65536 / threshold;
  const pairs = (n + 1) >> 1;
  rng.fillU32(draws, pairs);
  for (let k = 0, i = 0; k < pairs; k++, i += 2) {
    const u = draws[k];
    mask[i] = (u & 0xffff) < threshold ? scale : 0;
    if (i + 1 < n) mask[i + 1] = u >>> 16 < threshold ? scale : 0;
  }
}

/** One vector the graph reads and writes back: two buffers, swapped after every step. */
class PingPong {
  private a: ort.Tensor;
  private b: ort.Tensor;
  constructor(init: Float32Array) {
    this.a = f32(init, [init.length]);
    this.b = f32(new Float32Array(init.length), [init.length]);
  }
  get current(): ort.Tensor {
    return this.a;
  }
  get next(): ort.Tensor {
    return this.b;
  }
  get data(): Float32Array {
    return this.a.data as Float32Array;
  }
  swap(): void {
    [this.a, this.b] = [this.b, this.a];
  }
}

function learningRate(s: LrSchedule, step: number, totalSteps: number, plateauLr: number): number {
  const min = s.rate * (s.minRatio ?? 0.01);
  if (s.schedule === 'cosine') return min + 0.5 * (s.rate - min) * (1 + Math.cos((Math.PI * step) / totalSteps));
  if (s.schedule === 'piecewise') return s.rate * (s.factor ?? 0.1) ** (s.milestones ?? []).filter((m) => step >= m * totalSteps).length;
  return s.schedule === 'plateau' ? plateauLr : s.rate;
}

/** Trains the layout's vectors (starting from the parameters' data); see the file comment. */
export async function train(spec: TrainSpec): Promise<TrainResult> {
  const { layout, optimizer, lr } = spec;
  const n = spec.rows;
  const batch = Math.min(spec.batchSize, n);
  const minRows = spec.minBatchRows ?? 1;
  const shuffleRng = spec.rng.fork('shuffle');
  const dropoutRng = spec.rng.fork('dropout');
  const session = new Session(spec.model, spec.threads, spec.outputs);
  try {
    const init = layout.pack();
    const vectors: Record<string, PingPong> = { params: new PingPong(init.params) };
    for (const s of stateNames(optimizer.kind)) vectors[s] = new PingPong(new Float32Array(layout.size));
    if (layout.statsSize) vectors.stats = new PingPong(init.stats);
    const masks = (spec.masks ?? []).map((m) => {
      const width = m.shape.reduce((p, d) => p * d, 1);
      return { ...m, width, data: new Float32Array(batch * width), draws: new Uint32Array((batch * width + 1) >> 1) };
    });
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;

    const stepsPerEpoch = Math.ceil(n / batch);
    const totalSteps = stepsPerEpoch * spec.epochs;
    const minLr = lr.rate * (lr.minRatio ?? 0.01);
    let plateauLr = lr.rate;
    let plateauBest = Infinity;
    let plateauWait = 0;
    let step = 0;
    let lastLr = lr.rate;
    let bestLoss = Infinity;
    let bestEpoch = -1;
    let best: { params: Float32Array; stats: Float32Array } | undefined;
    let epochsRun = 0;
    const feeds: Record<string, ort.Tensor> = {};
    const into: Record<string, ort.Tensor> = {};
    const pause = pauser(); // signals are seen while an epoch runs

    for (let epoch = 0; epoch < spec.epochs; epoch++) {
      shuffleRng.shuffle(order as unknown as number[]);
      let lossSum = 0;
      let lossRows = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        const from = s * batch;
        const to = Math.min(n, from + batch);
        const rows = to - from;
        if (rows < minRows) continue;
        lastLr = learningRate(lr, step, totalSteps, plateauLr);
        step++;
        spec.feedBatch(order.subarray(from, to), feeds);
        for (const m of masks) {
          fillMask(m.data, rows * m.width, m.keep, dropoutRng, m.draws);
          feeds[m.name] = f32(rows === batch ? m.data : m.data.subarray(0, rows * m.width), [rows, ...m.shape]);
        }
        for (const [k, v] of Object.entries(stepScalars(optimizer.kind, lastLr, step, optimizer))) feeds[k] = f32(Float32Array.of(v), []);
        for (const [k, v] of Object.entries(vectors)) {
          feeds[k] = v.current;
          into[`${k}.next`] = v.next;
        }
        const out = session.run(feeds, into);
        for (const v of Object.values(vectors)) v.swap();
        lossSum += (out.loss.data as Float32Array)[0] * rows;
        lossRows += rows;
        const p = pause();
        if (p) await p;
      }
      epochsRun++;
      const trainLoss = lossRows ? lossSum / lossRows : NaN;
      if (!Number.isFinite(trainLoss)) throw new Error(`${spec.name}: training loss is ${trainLoss} at epoch ${epoch + 1}; lower learning_rate`);
      const metrics: Record<string, number> = { train_loss: trainLoss, lr: lastLr };
      let monitor = trainLoss;
      const stats = vectors.stats?.data ?? new Float32Array(0);
      if (spec.validLoss) {
        monitor = spec.validLoss(vectors.params.data, stats);
        metrics.valid_loss = monitor;
        if (monitor < bestLoss) {
          bestLoss = monitor;
          bestEpoch = epoch;
          best = { params: vectors.params.data.slice(), stats: stats.slice() };
        }
      }
      spec.onIter?.(epoch + 1, metrics);
      if (lr.schedule === 'plateau') {
        if (monitor < plateauBest) {
          plateauBest = monitor;
          plateauWait = 0;
        } else if (++plateauWait >= (lr.plateauPatience ?? 3)) {
          plateauLr = Math.max(minLr, plateauLr * (lr.plateauFactor ?? 0.5));
          plateauWait = 0;
        }
      }
      if (spec.validLoss && spec.patience > 0 && epoch - bestEpoch >= spec.patience) {
        spec.log?.(`${spec.name}: early stop after epoch ${epoch + 1}; best epoch ${bestEpoch + 1} (valid_loss ${bestLoss.toPrecision(5)})`);
        break;
      }
    }
    if (spec.validLoss && epochsRun === spec.epochs)
      spec.log?.(`${spec.name}: best epoch ${bestEpoch + 1} of ${spec.epochs} (valid_loss ${bestLoss.toPrecision(5)})`);
    if (best) return { ...best, bestEpoch: bestEpoch + 1, bestValidLoss: bestLoss, epochsRun };
    return { params: vectors.params.data, stats: vectors.stats?.data ?? new Float32Array(0), bestEpoch: epochsRun, bestValidLoss: NaN, epochsRun };
  } finally {
    session.dispose();
  }
}
