/**
 * @file `mlp` learner: learns nonlinear signal and planted category offsets, early stopping
 * restores the best epoch, seeded determinism, JSON round trip, binary task, per-row weights,
 * backend selection and no tensor leak. Small data: the file runs in well under a minute.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { fromColumns, type Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { UserError } from '../../core/errors.ts';
import { mlp, mlpBackend } from '../../models/mlp.ts';
import type { FitContext } from '../../models/model.ts';

function mse(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (p[i] - y[i]) ** 2;
  return s / y.length;
}

function variance(y: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < y.length; i++) m += y[i];
  m /= y.length;
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i] - m) ** 2;
  return s / y.length;
}

function auc(p: ArrayLike<number>, y: ArrayLike<number>): number {
  const idx = Array.from({ length: y.length }, (_, i) => i).sort((a, b) => p[a] - p[b]);
  let rankSum = 0;
  let pos = 0;
  idx.forEach((i, r) => {
    if (y[i] === 1) {
      rankSum += r + 1;
      pos++;
    }
  });
  const neg = y.length - pos;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

function split(cols: Float64Array[], names: string[], cat: boolean[], at: number): [Matrix, Matrix] {
  return [
    fromColumns(
      cols.map((c) => c.slice(0, at)),
      names,
      cat,
    ),
    fromColumns(
      cols.map((c) => c.slice(at)),
      names,
      cat,
    ),
  ];
}

/** y = sin(2a) + b^2 - c + noise, with some missing values in c. */
function nonlinear(n: number, seed: number) {
  const rng = new Random(seed);
  const a = Float64Array.from({ length: n }, () => rng.normal());
  const b = Float64Array.from({ length: n }, () => rng.normal());
  const c = Float64Array.from({ length: n }, () => rng.normal());
  const y = Float64Array.from({ length: n }, (_, i) => Math.sin(2 * a[i]) + b[i] * b[i] - c[i] + 0.1 * rng.normal());
  for (let i = 0; i < n; i += 17) c[i] = NaN;
  return { cols: [a, b, c], names: ['a', 'b', 'c'], cat: [false, false, false], y };
}

const quick = { hidden: [32, 16], batch_size: 128, epochs: 30, learning_rate: 5e-3 };

describe('mlp learner', () => {
  it('picks a backend and reports it in the log', async () => {
    const lines: string[] = [];
    const name = await mlpBackend('auto', (l) => lines.push(l));
    expect(['tensorflow', 'wasm', 'cpu']).toContain(name);
    expect(tf.getBackend()).toBe(name); // the test's tfjs is the learner's tfjs
    expect(lines[0]).toMatch(new RegExp(`^mlp: tfjs backend ${name}`));
    await expect(mlpBackend('node')).rejects.toThrow(UserError);
    await expect(mlpBackend('node')).rejects.toThrow(/tfjs-node/);
  });

  it('learns a nonlinear function far better than the mean, with no tensor leak', async () => {
    const d = nonlinear(1300, 1);
    const [tr, te] = split(d.cols, d.names, d.cat, 1000);
    const ytr = d.y.slice(0, 1000);
    const yte = d.y.slice(1000);
    await mlpBackend();
    const before = tf.memory().numTensors;
    const lines: string[] = [];
    const m = await mlp.fit(tr, ytr, mlp.params.parse(quick), { seed: 3, task: 'regression', log: (l) => lines.push(l) });
    const p = m.predict(te);
    const again = mlp.load(JSON.parse(JSON.stringify(m.toJSON())));
    again.predict(te);
    expect(tf.memory().numTensors).toBe(before);
    const ratio = mse(p, yte) / variance(yte);
    expect(ratio).toBeLessThan(0.25);
    expect(p.every(Number.isFinite)).toBe(true);
    expect(lines.some((l) => /tfjs backend/.test(l))).toBe(true);
    const imp = m.importance();
    expect(Object.keys(imp)).toEqual(['a', 'b', 'c']);
    expect(Object.values(imp).every((v) => v > 0)).toBe(true);
  });

  it('learns a planted per-category offset through the embedding; unseen codes still predict', async () => {
    const rng = new Random(5);
    const levels = 20;
    const offset = Array.from({ length: levels }, () => 2 * rng.normal());
    const n = 1300;
    const cat = Float64Array.from({ length: n }, () => rng.int(levels));
    const noise = Float64Array.from({ length: n }, () => rng.normal());
    const y = Float64Array.from({ length: n }, (_, i) => offset[cat[i]] + 0.1 * rng.normal());
    const [tr, te] = split([cat, noise], ['cat', 'noise'], [true, false], 1000);
    const m = await mlp.fit(tr, y.slice(0, 1000), mlp.params.parse({ ...quick, embedding_dim: 4 }), { seed: 2, task: 'regression' });
    const p = m.predict(te);
    expect(mse(p, y.slice(1000)) / variance(y.slice(1000))).toBeLessThan(0.05);
    // Per-level mean prediction tracks the planted offset.
    const probe = fromColumns([Float64Array.from({ length: levels }, (_, k) => k), new Float64Array(levels)], ['cat', 'noise'], [true, false]);
    const byLevel = m.predict(probe);
    for (let k = 0; k < levels; k++) expect(Math.abs(byLevel[k] - offset[k])).toBeLessThan(0.35);
    // Codes above the training maximum, negative or missing go to the 'unknown' row.
    const unseen = m.predict(fromColumns([Float64Array.from([levels + 5, -1, NaN]), new Float64Array(3)], ['cat', 'noise'], [true, false]));
    expect(unseen.every(Number.isFinite)).toBe(true);
    expect(unseen[0]).toBe(unseen[1]);
    expect(unseen[0]).toBe(unseen[2]);
  });

  it('early stopping returns the best epoch: its validation loss equals the best seen', async () => {
    // Few noisy rows and a wide net with a high constant rate: validation loss turns up quickly.
    const rng = new Random(11);
    const n = 300;
    const cols = Array.from({ length: 10 }, () => Float64Array.from({ length: n }, () => rng.normal()));
    const y = Float64Array.from({ length: n }, (_, i) => 0.5 * cols[0][i] + rng.normal());
    const names = cols.map((_, c) => `x${c}`);
    const [tr, va] = split(cols, names, new Array(10).fill(false), 200);
    const ytr = y.slice(0, 200);
    const yva = y.slice(200);
    const seen: number[] = [];
    const lines: string[] = [];
    const ctx: FitContext = {
      seed: 1,
      task: 'regression',
      valid: { X: va, y: yva },
      onIter: (_, metrics) => seen.push(metrics.valid_loss),
      log: (l) => lines.push(l),
    };
    const params = mlp.params.parse({
      hidden: [128, 128],
      dropout: 0,
      batch_norm: false,
      loss: 'mse',
      learning_rate: 0.01,
      lr_schedule: 'constant',
      batch_size: 32,
      epochs: 60,
      patience: 6,
    });
    const m = await mlp.fit(tr, ytr, params, ctx);
    const best = Math.min(...seen);
    const bestEpoch = seen.indexOf(best);
    expect(bestEpoch).toBeLessThan(seen.length - 1); // it trained past the best epoch ...
    expect(seen.length).toBeLessThan(60); // ... and stopped early
    expect(seen.length - 1 - bestEpoch).toBe(6);
    expect(lines.some((l) => l.includes(`best epoch ${bestEpoch + 1}`))).toBe(true);
    // The returned model's validation loss, on the standardised target, is the best seen.
    const returned = mse(m.predict(va), yva) / variance(ytr);
    expect(returned).toBeCloseTo(best, 5);
    expect((m.toJSON() as { bestEpoch: number }).bestEpoch).toBe(bestEpoch + 1);
  });

  it('same seed gives identical predictions; another seed differs; JSON round trip predicts identically', async () => {
    const d = nonlinear(600, 7);
    const [tr, te] = split(d.cols, d.names, d.cat, 500);
    const params = mlp.params.parse({ ...quick, epochs: 8, dropout: 0.2, batch_norm: true, lr_schedule: 'plateau' });
    const fit = (seed: number) => mlp.fit(tr, d.y.slice(0, 500), params, { seed, task: 'regression' });
    const a = await fit(42);
    const b = await fit(42);
    const c = await fit(43);
    const pa = a.predict(te);
    expect(Array.from(b.predict(te))).toEqual(Array.from(pa));
    expect(Array.from(c.predict(te))).not.toEqual(Array.from(pa));
    const loaded = mlp.load(JSON.parse(JSON.stringify(a.toJSON())));
    expect(loaded.kind).toBe('mlp');
    expect(Array.from(loaded.predict(te))).toEqual(Array.from(pa));
    expect(loaded.importance()).toEqual(a.importance());
    expect(() => mlp.load({ kind: 'ridge' })).toThrow(/not an mlp/);
  });

  it('binary task: probabilities with AUC well above 0.5', async () => {
    const rng = new Random(9);
    const n = 1300;
    const a = Float64Array.from({ length: n }, () => rng.normal());
    const b = Float64Array.from({ length: n }, () => rng.normal());
    const y = Float64Array.from({ length: n }, (_, i) => (a[i] * b[i] + 0.3 * a[i] + 0.3 * rng.normal() > 0 ? 1 : 0));
    const [tr, te] = split([a, b], ['a', 'b'], [false, false], 1000);
    const m = await mlp.fit(tr, y.slice(0, 1000), mlp.params.parse(quick), { seed: 1, task: 'binary' });
    const p = m.predict(te);
    expect(p.every((v) => v > 0 && v < 1)).toBe(true);
    expect(auc(p, y.slice(1000))).toBeGreaterThan(0.8);
  });

  it('per-row weights: zero-weight rows are ignored', async () => {
    const rng = new Random(4);
    const n = 800;
    const a = Float64Array.from({ length: 2 * n }, (_, i) => (i < n ? rng.normal() : 0));
    for (let i = n; i < 2 * n; i++) a[i] = a[i - n];
    // The second copy carries the opposite label with weight 0.
    const y = Float64Array.from({ length: 2 * n }, (_, i) => (i < n ? a[i] : -a[i]));
    const w = Float64Array.from({ length: 2 * n }, (_, i) => (i < n ? 1 : 0));
    const X = fromColumns([a], ['a']);
    const m = await mlp.fit(X, y, mlp.params.parse({ ...quick, epochs: 10 }), { seed: 1, task: 'regression', weight: w });
    const probe = fromColumns([Float64Array.from([-1, 0, 1])], ['a']);
    const p = m.predict(probe);
    expect(p[2] - p[0]).toBeGreaterThan(1.5);
  });

  it('backend param: cpu trains the same network as the default backend, up to float rounding', async () => {
    const d = nonlinear(300, 13);
    const X = fromColumns(d.cols, d.names, d.cat);
    const params = { hidden: [16], batch_size: 100, epochs: 3 };
    const auto = await mlp.fit(X, d.y, mlp.params.parse(params), { seed: 5, task: 'regression' });
    const lines: string[] = [];
    const cpu = await mlp.fit(X, d.y, mlp.params.parse({ ...params, backend: 'cpu' }), { seed: 5, task: 'regression', log: (l) => lines.push(l) });
    expect(lines[0]).toMatch(/^mlp: tfjs backend cpu/);
    const pa = auto.predict(X);
    const pc = cpu.predict(X);
    for (let i = 0; i < pa.length; i++) expect(Math.abs(pa[i] - pc[i])).toBeLessThan(1e-3);
    await mlpBackend(); // leave the default backend current
  });
});
