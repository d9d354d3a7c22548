/**
 * @file A network's parameters as named float32 arrays (so a fitted model is JSON), and their
 * flat layout for the graphs: the trainable ones packed into one vector (graph input `params`),
 * the others (batch-norm running statistics) into a second (`stats`). Inside a graph each
 * parameter is a Slice + Reshape of its vector, so a training step feeds and fetches one tensor
 * per vector instead of one per parameter.
 *
 * @example
 *   const layout = new ParamLayout(params);
 *   const w = layout.inputs(g);              // name -> graph tensor of the parameter's shape
 *   const { params: p, stats } = layout.pack();
 *   layout.feed(p, stats, feeds);            // feeds.params, feeds.stats
 *   layout.unpack(p, stats);                 // Param[] viewing the vectors
 */
import type { Graph, T } from './graph.ts';
import { f32, type ort } from './session.ts';

/** A named array with its shape. */
export interface Param {
  name: string;
  shape: number[];
  data: Float32Array;
  /** false for values the graph updates itself (batch-norm running statistics). */
  trainable: boolean;
  /** true where weight decay applies (dense kernels and embeddings). */
  decay: boolean;
}

interface Slot {
  param: Param;
  offset: number;
  size: number;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

export class ParamLayout {
  /** Length of the trainable vector (`params`) and of the statistics vector (`stats`). */
  readonly size: number;
  readonly statsSize: number;
  private readonly slots: Slot[] = [];

  constructor(readonly params: readonly Param[]) {
    let p = 0;
    let s = 0;
    for (const param of params) {
      const size = sizeOf(param.shape);
      if (param.data.length !== size) throw new Error(`nn: parameter ${param.name} has ${param.data.length} values for shape [${param.shape}]`);
      this.slots.push({ param, offset: param.trainable ? p : s, size });
      if (param.trainable) p += size;
      else s += size;
    }
    this.size = p;
    this.statsSize = s;
  }

  /** Adds the `params` (and `stats`) inputs to g; returns each parameter's tensor by name. */
  inputs(g: Graph): Map<string, T> {
    const flat = this.size ? g.input('params', [this.size]) : null;
    const stats = this.statsSize ? g.input('stats', [this.statsSize]) : null;
    const out = new Map<string, T>();
    for (const { param, offset, size } of this.slots) {
      const src = (param.trainable ? flat : stats)!;
      const whole = offset === 0 && size === src.shape[0];
      const piece = whole ? src : g.slice(src, [offset], [offset + size], [0]);
      out.set(param.name, param.shape.length === 1 ? piece : g.reshape(piece, param.shape));
    }
    return out;
  }

  /** The `params` input that `inputs(g)` added. */
  flatInput(): T {
    return { name: 'params', shape: [this.size], dtype: 'float32' };
  }

  /** The trainable parameters' gradients (same order as `params`) as one flat [size] tensor. */
  flatten(g: Graph, grads: readonly T[]): T {
    const flat = grads.map((d) => (d.shape.length === 1 ? d : g.reshape(d, [sizeOf(d.shape)])));
    return flat.length === 1 ? flat[0] : g.concat(flat, 0);
  }

  /** Values of the named non-trainable parameters (`next`; the others pass through) as one [statsSize] tensor. */
  flattenStats(g: Graph, current: ReadonlyMap<string, T>, next: ReadonlyMap<string, T>): T {
    const parts = this.slots
      .filter((s) => !s.param.trainable)
      .map(({ param }) => {
        const t = next.get(param.name) ?? current.get(param.name)!;
        return t.shape.length === 1 ? t : g.reshape(t, [sizeOf(t.shape)]);
      });
    return parts.length === 1 ? parts[0] : g.concat(parts, 0);
  }

  /** 0/1 per element of the trainable vector: 1 where weight decay applies. */
  decayMask(): Float32Array {
    const m = new Float32Array(this.size);
    for (const { param, offset, size } of this.slots) if (param.trainable && param.decay) m.fill(1, offset, offset + size);
    return m;
  }

  /** Fresh vectors holding the parameters' current values. */
  pack(): { params: Float32Array; stats: Float32Array } {
    const params = new Float32Array(this.size);
    const stats = new Float32Array(this.statsSize);
    for (const { param, offset } of this.slots) (param.trainable ? params : stats).set(param.data, offset);
    return { params, stats };
  }

  /** The parameters with their data viewing the given vectors (no copy). */
  unpack(params: Float32Array, stats: Float32Array): Param[] {
    return this.slots.map(({ param, offset, size }) => ({ ...param, data: (param.trainable ? params : stats).subarray(offset, offset + size) }));
  }

  /** Sets feeds.params and feeds.stats (where the layout has them). */
  feed(params: Float32Array, stats: Float32Array, feeds: Record<string, ort.Tensor>): void {
    if (this.size) feeds.params = f32(params, [this.size]);
    if (this.statsSize) feeds.stats = f32(stats, [this.statsSize]);
  }
}
