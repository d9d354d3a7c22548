/**
 * @file The onnxruntime training engine (models/nn): every gradient rule against central
 * finite differences, the losses, the optimizer update against a JavaScript reference, and
 * thread-count independence of a training step.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../core/random.ts';
import { Graph, type T } from '../../models/nn/graph.ts';
import { rowLoss, weightedMean, type LossKind } from '../../models/nn/losses.ts';
import { stepScalars } from '../../models/nn/optim.ts';
import { ParamLayout } from '../../models/nn/params.ts';
import { addTrainingStep, fillMask } from '../../models/nn/trainer.ts';
import { Session, f32, i32, type ort } from '../../models/nn/session.ts';

interface In {
  shape: number[];
  /** Shape declared in the graph (defaults to shape; -1 for a dynamic dimension). */
  declared?: number[];
  data: Float32Array | Int32Array;
}

const rng = new Random(7);

/** Values in (lo, hi) kept at least `gap` away from each kink. */
function vals(n: number, lo = -2, hi = 2, kinks: number[] = [0], gap = 0.1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v: number;
    do v = rng.uniform(lo, hi);
    while (kinks.some((k) => Math.abs(v - k) < gap));
    a[i] = v;
  }
  return a;
}

function feed(inputs: In[]): Record<string, ort.Tensor> {
  return Object.fromEntries(inputs.map((x, i) => [`x${i}`, x.data instanceof Int32Array ? i32(x.data, x.shape) : f32(x.data, x.shape)]));
}

/**
 * Builds loss = sum(f(inputs) * R) for a fixed random R, and compares the engine's gradient of
 * every float input with central differences (float32, so eps 1e-2 and a 1e-2 tolerance).
 */
function checkGrad(build: (g: Graph, xs: T[]) => T, inputs: In[], eps = 1e-2): void {
  const g = new Graph();
  const xs = inputs.map((x, i) => g.input(`x${i}`, x.declared ?? x.shape, x.data instanceof Int32Array ? 'int32' : 'float32'));
  const y = build(g, xs);
  const yShape = y.shape.map((d) => (d < 0 ? inputs[0].shape[0] : d));
  const R = new Float32Array(yShape.reduce((p, d) => p * d, 1));
  for (let i = 0; i < R.length; i++) R[i] = rng.uniform(-1, 1);
  const loss = g.reduceSum(g.mul(y, g.constant(R, yShape)), yShape.map((_, i) => i), false);
  const diff = xs.filter((x) => x.dtype === 'float32');
  const grads = g.gradients(loss, diff);
  g.output(loss, 'loss');
  grads.forEach((d, i) => g.output(d, `d${i}`));
  const s = new Session(g.toModel(), 1, ['loss', ...grads.map((_, i) => `d${i}`)]);
  const out = s.run(feed(inputs));
  let k = 0;
  inputs.forEach((x) => {
    if (x.data instanceof Int32Array) return;
    const analytic = out[`d${k++}`].data as Float32Array;
    expect(analytic.length).toBe(x.data.length);
    for (let j = 0; j < x.data.length; j++) {
      const v = x.data[j];
      x.data[j] = v + eps;
      const up = (s.run(feed(inputs)).loss.data as Float32Array)[0];
      x.data[j] = v - eps;
      const down = (s.run(feed(inputs)).loss.data as Float32Array)[0];
      x.data[j] = v;
      const numeric = (up - down) / (2 * eps);
      expect(Math.abs(analytic[j] - numeric)).toBeLessThan(1e-2 * (1 + Math.abs(numeric)));
    }
  });
  s.dispose();
}

const F = (shape: number[], lo?: number, hi?: number, kinks?: number[], declared?: number[]): In => ({
  shape,
  declared,
  data: vals(shape.reduce((p, d) => p * d, 1), lo, hi, kinks),
});

describe('nn engine: gradient rules against finite differences', () => {
  it('Add, Sub, Mul, Div with broadcasting', () => {
    checkGrad((g, [a, b]) => g.add(a, b), [F([2, 3]), F([3])]);
    checkGrad((g, [a, b]) => g.sub(a, b), [F([2, 3]), F([2, 1])]);
    checkGrad((g, [a, b]) => g.mul(a, b), [F([2, 3]), F([1, 3])]);
    checkGrad((g, [a, b]) => g.div(a, b), [F([2, 3]), F([3], 0.5, 2)]);
    checkGrad((g, [a, b]) => g.mul(a, b), [F([4, 2], -2, 2, [0], [-1, 2]), F([2])]);
  });

  it('elementwise: Neg, Relu, LeakyRelu, Elu, Selu, Tanh, Sigmoid, Softplus, Erf, Exp, Log, Abs, Sqrt, Clip, Identity, Max, Min', () => {
    const x = () => F([3, 4]);
    checkGrad((g, [a]) => g.neg(a), [x()]);
    checkGrad((g, [a]) => g.relu(a), [x()]);
    checkGrad((g, [a]) => g.leakyRelu(a, 0.1), [x()]);
    checkGrad((g, [a]) => g.elu(a, 0.7), [x()]);
    checkGrad((g, [a]) => g.selu(a), [x()]);
    checkGrad((g, [a]) => g.tanh(a), [x()]);
    checkGrad((g, [a]) => g.sigmoid(a), [x()]);
    checkGrad((g, [a]) => g.softplus(a), [x()]);
    checkGrad((g, [a]) => g.erf(a), [x()]);
    checkGrad((g, [a]) => g.exp(a), [x()]);
    checkGrad((g, [a]) => g.log(a), [F([3, 4], 0.3, 3)]);
    checkGrad((g, [a]) => g.abs(a), [x()]);
    checkGrad((g, [a]) => g.sqrt(a), [F([3, 4], 0.3, 3)]);
    checkGrad((g, [a]) => g.clip(a, -0.5, 0.8), [F([3, 4], -2, 2, [-0.5, 0.8])]);
    checkGrad((g, [a]) => g.identity(a), [x()]);
    // Operands at least 0.1 apart everywhere (finite differences must not cross the kink).
    const a = x();
    const b: In = { shape: [4], data: Float32Array.from([-1, 0.4, 1.2, -0.3]) };
    for (let i = 0; i < 12; i++) if (Math.abs(a.data[i] - b.data[i % 4]) < 0.1) a.data[i] += 0.25;
    checkGrad((g, [p, q]) => g.max(p, q), [a, b]);
    checkGrad((g, [p, q]) => g.min(p, q), [a, b]);
  });

  it('Softmax', () => {
    checkGrad((g, [a]) => g.softmax(a, -1), [F([3, 4])]);
    checkGrad((g, [a]) => g.softmax(a, 0), [F([3, 4])]);
  });

  it('MatMul and Gemm in every transpose combination, with bias, alpha and beta', () => {
    checkGrad((g, [a, b]) => g.matmul(a, b), [F([2, 3]), F([3, 4])]);
    for (const transA of [false, true])
      for (const transB of [false, true]) {
        const a = transA ? F([3, 2]) : F([2, 3]);
        const b = transB ? F([4, 3]) : F([3, 4]);
        checkGrad((g, [x, y, c]) => g.gemm(x, y, c, { transA, transB, alpha: 0.7, beta: 1.3 }), [a, b, F([4])]);
      }
    checkGrad((g, [x, y, c]) => g.gemm(x, y, c), [F([5, 3], -2, 2, [0], [-1, 3]), F([3, 2]), F([1, 2])]);
  });

  it('ReduceSum and ReduceMean (static and dynamic dimensions, with and without keepdims)', () => {
    checkGrad((g, [a]) => g.reduceSum(a, [0], false), [F([3, 4])]);
    checkGrad((g, [a]) => g.reduceSum(a, [1], true), [F([3, 4])]);
    checkGrad((g, [a]) => g.reduceMean(a, [0, 1], false), [F([3, 4])]);
    checkGrad((g, [a]) => g.reduceMean(a, [0], true), [F([5, 2], -2, 2, [0], [-1, 2])]);
    checkGrad((g, [a]) => g.reduceMean(a, [1], false), [F([5, 2], -2, 2, [0], [-1, 2])]);
  });

  it('Gather (embedding rows, repeated codes accumulate)', () => {
    checkGrad((g, [t, i]) => g.gather(t, i), [F([5, 3]), { shape: [6], data: Int32Array.from([0, 2, 2, 4, 0, 2]) }]);
  });

  it('Concat, Slice, Reshape, Transpose', () => {
    checkGrad((g, [a, b]) => g.concat([a, b], 1), [F([3, 2]), F([3, 4])]);
    checkGrad((g, [a, b]) => g.concat([a, b], 1), [F([3, 2], -2, 2, [0], [-1, 2]), F([3, 4], -2, 2, [0], [-1, 4])]);
    checkGrad((g, [a]) => g.slice(a, [1, 0], [3, -1], [0, 1]), [F([4, 5])]);
    checkGrad((g, [a]) => g.reshape(a, [2, 6]), [F([3, 4])]);
    checkGrad((g, [a]) => g.reshape(a, [-1, 2, 2]), [F([3, 4], -2, 2, [0], [-1, 4])]);
    checkGrad((g, [a]) => g.transpose(a, [1, 0]), [F([3, 4])]);
  });

  it('losses: MSE, MAE, Huber and binary log-loss as weighted means', () => {
    const kinds: LossKind[] = ['mse', 'mae', 'huber', 'logloss'];
    for (const kind of kinds) {
      const y: In = kind === 'logloss' ? { shape: [6], data: Float32Array.from([0, 1, 1, 0, 1, 0]) } : F([6]);
      // Keep |out - y| away from MAE's and Huber's kinks (0 and +-delta).
      const out = F([6]);
      if (kind !== 'logloss') for (let i = 0; i < 6; i++) out.data[i] = y.data[i] + (i % 2 ? 1 : -1) * (0.2 + 0.3 * i);
      const w: In = { shape: [6], data: Float32Array.from([1, 0.5, 2, 0, 1, 1]) };
      checkGrad((g, [o, t, ww]) => weightedMean(g, rowLoss(g, kind, o, t, 0.9), ww), [out, y, w]);
    }
  });

  it('a composite: two-layer net with batch-norm statistics and dropout mask', () => {
    checkGrad(
      (g, [x, w1, w2, mask]) => {
        const z = g.matmul(x, w1);
        const mu = g.reduceMean(z, [0], true);
        const d = g.sub(z, mu);
        const v = g.reduceMean(g.square(d), [0], true);
        const h = g.mul(g.tanh(g.div(d, g.sqrt(g.add(v, g.scalar(1e-3))))), mask);
        return g.matmul(h, w2);
      },
      [F([6, 3], -2, 2, [0], [-1, 3]), F([3, 4]), F([4, 2]), { shape: [6, 4], declared: [-1, 4], data: Float32Array.from({ length: 24 }, (_, i) => (i % 3 ? 1.25 : 0)) }],
    );
  });
});

describe('nn engine: optimizer and threads', () => {
  /** y ~ x w + b with w [4, 1] (decayed) and b [1] (not), in the flat layout. */
  function stepGraph(kind: 'adam' | 'sgd', wd: number, layout: ParamLayout) {
    const g = new Graph();
    const x = g.input('x', [-1, 4]);
    const y = g.input('y', [-1]);
    const p = layout.inputs(g);
    const out = g.reshape(g.gemm(x, p.get('w')!, p.get('b')!), [-1]);
    const loss = g.reduceMean(g.square(g.sub(out, y)), [0], false);
    const outputs = addTrainingStep(g, layout, p, loss, new Map(), { kind, weightDecay: wd });
    expect(outputs).toEqual(kind === 'adam' ? ['loss', 'params.next', 'm.next', 'v.next'] : ['loss', 'params.next']);
    return new Session(g.toModel(), 1, outputs);
  }

  it('one fused Adam (bias correction, decoupled decay where marked) or SGD step over the flat vector matches a JavaScript reference', () => {
    const n = 8;
    const x = vals(n * 4);
    const y = vals(n);
    const wd = 0.01;
    for (const kind of ['adam', 'sgd'] as const) {
      const layout = new ParamLayout([
        { name: 'w', shape: [4, 1], data: vals(4), trainable: true, decay: true },
        { name: 'b', shape: [1], data: Float32Array.of(0.3), trainable: true, decay: false },
      ]);
      expect(layout.size).toBe(5);
      const s = stepGraph(kind, wd, layout);
      let flat: Float32Array = layout.pack().params;
      let m: Float32Array = new Float32Array(5);
      let v: Float32Array = new Float32Array(5);
      const ref = Float64Array.from(flat); // w0..w3, b
      const rm = new Float64Array(5);
      const rv = new Float64Array(5);
      for (let t = 1; t <= 3; t++) {
        const lr = 0.05;
        const feeds: Record<string, ort.Tensor> = { x: f32(x, [n, 4]), y: f32(y, [n]), params: f32(flat, [5]) };
        if (kind === 'adam') Object.assign(feeds, { m: f32(m, [5]), v: f32(v, [5]) });
        for (const [k, val] of Object.entries(stepScalars(kind, lr, t))) feeds[k] = f32(Float32Array.of(val), []);
        const out = s.run(feeds);
        // Reference gradient at the reference weights (float64).
        const gr = new Float64Array(5);
        for (let r = 0; r < n; r++) {
          let o = ref[4];
          for (let j = 0; j < 4; j++) o += x[r * 4 + j] * ref[j];
          for (let j = 0; j < 4; j++) gr[j] += (2 * (o - y[r]) * x[r * 4 + j]) / n;
          gr[4] += (2 * (o - y[r])) / n;
        }
        for (let j = 0; j < 5; j++) {
          const decay = j < 4 ? wd : 0;
          if (kind === 'sgd') ref[j] -= lr * (gr[j] + decay * ref[j]);
          else {
            rm[j] = 0.9 * rm[j] + 0.1 * gr[j];
            rv[j] = 0.999 * rv[j] + 0.001 * gr[j] ** 2;
            ref[j] -= lr * (rm[j] / (1 - 0.9 ** t) / (Math.sqrt(rv[j] / (1 - 0.999 ** t)) + 1e-7) + decay * ref[j]);
          }
        }
        flat = out['params.next'].data as Float32Array;
        if (kind === 'adam') {
          m = out['m.next'].data as Float32Array;
          v = out['v.next'].data as Float32Array;
        }
      }
      for (let j = 0; j < 5; j++) expect(flat[j]).toBeCloseTo(ref[j], 4);
      s.dispose();
    }
  });
});

describe('nn trainer: dropout masks', () => {
  it('Random.fillU32 continues the nextU32 stream; masks are 0 or a scale with mean 1, seeded', () => {
    const a = new Random(5);
    const b = new Random(5);
    const buf = new Uint32Array(101);
    a.fillU32(buf, 100);
    for (let i = 0; i < 100; i++) expect(buf[i]).toBe(b.nextU32());
    expect(a.nextU32()).toBe(b.nextU32());

    const n = 20001; // odd: the last draw fills one entry
    const mask = (seed: number) => {
      const m = new Float32Array(n);
      fillMask(m, n, 0.7, new Random(seed), new Uint32Array((n + 1) >> 1));
      return m;
    };
    const m = mask(1);
    const scale = 65536 / Math.round(0.7 * 65536);
    let zeros = 0;
    let sum = 0;
    for (const v of m) {
      expect(v === 0 || v === Math.fround(scale)).toBe(true);
      if (v === 0) zeros++;
      sum += v;
    }
    expect(Math.abs(zeros / n - 0.3)).toBeLessThan(0.02);
    expect(Math.abs(sum / n - 1)).toBeLessThan(0.03);
    expect(mask(1)).toEqual(m);
    expect(mask(2)).not.toEqual(m);
  });
});
