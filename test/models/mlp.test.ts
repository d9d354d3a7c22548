/**
 * @file `mlp` learner: learns nonlinear signal and planted category offsets, early stopping
 * restores the best epoch, seeded determinism (and the same bytes on 1 and 2 threads), JSON
 * round trip, binary task, per-row weights, forward pass against a plain JavaScript reference.
 * Small data: the file runs in well under a minute.
 */
import { describe, expect, it } from 'vitest';
import { fromColumns, type Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { mlp } from '../../models/mlp.ts';
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
  it('learns a nonlinear function far better than the mean', async () => {
    const d = nonlinear(1300, 1);
    const [tr, te] = split(d.cols, d.names, d.cat, 1000);
    const ytr = d.y.slice(0, 1000);
    const yte = d.y.slice(1000);
    const lines: string[] = [];
    const m = await mlp.fit(tr, ytr, mlp.params.parse(quick), { seed: 3, task: 'regression', log: (l) => lines.push(l) });
    const p = m.predict(te);
    const ratio = mse(p, yte) / variance(yte);
    expect(ratio).toBeLessThan(0.25);
    expect(p.every(Number.isFinite)).toBe(true);
    expect(lines.some((l) => /onnxruntime \d+ thread/.test(l))).toBe(true);
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
    // Same inputs, same table row; MLAS may round a row's dot products differently by its position
    // in the batch (remainder-row kernels), so compare to float precision.
    expect(unseen[1]).toBeCloseTo(unseen[0], 5);
    expect(unseen[2]).toBeCloseTo(unseen[0], 5);
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

  it('1 and 2 threads train to the same bytes (dropout, batch norm, embeddings, weight decay)', async () => {
    const d = nonlinear(700, 13);
    const rng = new Random(3);
    const cat = Float64Array.from({ length: 700 }, () => rng.int(12));
    const X = fromColumns([...d.cols, cat], [...d.names, 'cat'], [...d.cat, true]);
    const params = { hidden: [48, 16], batch_size: 64, epochs: 3, dropout: 0.2, weight_decay: 1e-3, embedding_dim: 3 };
    const one = await mlp.fit(X, d.y, mlp.params.parse({ ...params, num_threads: 1 }), { seed: 5, task: 'regression' });
    const two = await mlp.fit(X, d.y, mlp.params.parse({ ...params, num_threads: 2 }), { seed: 5, task: 'regression' });
    expect(Array.from(two.predict(X))).toEqual(Array.from(one.predict(X)));
    const w1 = (one.toJSON() as { params: { data: number[] }[] }).params;
    const w2 = (two.toJSON() as { params: { data: number[] }[] }).params;
    expect(w2).toEqual(w1);
  });

  it('sgd optimizer and every activation train to finite predictions', async () => {
    const d = nonlinear(300, 17);
    const X = fromColumns(d.cols, d.names, d.cat);
    for (const activation of ['relu', 'leaky_relu', 'elu', 'selu', 'gelu', 'swish', 'tanh'] as const) {
      const m = await mlp.fit(X, d.y, mlp.params.parse({ hidden: [8], epochs: 2, activation, optimizer: activation === 'tanh' ? 'sgd' : 'adam', learning_rate: 0.01 }), {
        seed: 1,
        task: 'regression',
      });
      expect(m.predict(X).every(Number.isFinite)).toBe(true);
    }
  });

  it('predict equals a plain JavaScript forward pass on fixed weights (batch norm, embedding, missing indicator)', () => {
    // Inputs: a (numeric, with missing values), k (categorical, 3 levels); hidden [2] relu with batch norm.
    const rng = new Random(21);
    const r = (k: number) => Array.from({ length: k }, () => rng.uniform(-1, 1));
    const spec = { numeric: 2, embeddings: [{ rows: 4, dim: 2 }], hidden: [2], batchNorm: true, activation: 'relu', dropout: 0 };
    const P = { emb0: r(8), W0: r(8), gamma0: [1.5, 0.7], beta0: [0.1, -0.2], mean0: [0.3, -0.1], var0: [0.8, 1.9], Wout: r(2), bout: [0.25] };
    const shapes: Record<string, number[]> = { emb0: [4, 2], W0: [4, 2], gamma0: [2], beta0: [2], mean0: [2], var0: [2], Wout: [2, 1], bout: [1] };
    const json = {
      kind: 'mlp',
      task: 'regression',
      encoding: {
        names: ['a', 'k'],
        columns: [
          { type: 'num', mean: 0.5, scale: 2, slot: 0, indicator: 1 },
          { type: 'cat', levels: 3, table: 0 },
        ],
        numericWidth: 2,
      },
      spec,
      yMean: 3,
      yScale: 2,
      bestEpoch: 1,
      threads: 1,
      predictBatch: 2,
      params: Object.entries(P).map(([name, data]) => ({ name, shape: shapes[name], data })),
    };
    const m = mlp.load(json);
    const a = [1.5, NaN, -0.7, 0.2, 3];
    const k = [0, 2, 1, 7, NaN];
    const p = m.predict(fromColumns([Float64Array.from(a), Float64Array.from(k)], ['a', 'k'], [false, true]));
    for (let i = 0; i < a.length; i++) {
      const code = Number.isFinite(k[i]) && k[i] >= 0 && k[i] < 3 ? k[i] : 3;
      const x = [Number.isFinite(a[i]) ? (a[i] - 0.5) / 2 : 0, Number.isFinite(a[i]) ? 0 : 1, P.emb0[code * 2], P.emb0[code * 2 + 1]];
      let out = P.bout[0];
      for (let j = 0; j < 2; j++) {
        let z = 0;
        for (let q = 0; q < 4; q++) z += x[q] * P.W0[q * 2 + j];
        z = ((z - P.mean0[j]) / Math.sqrt(P.var0[j] + 1e-3)) * P.gamma0[j] + P.beta0[j];
        out += Math.max(0, z) * P.Wout[j];
      }
      expect(p[i]).toBeCloseTo(out * 2 + 3, 5);
    }
  });
});

describe('mlp with several targets (fitJoint: one network, a head per target)', () => {
  /** Two targets from one hidden nonlinear factor h: y1 = h + noise, y2 = 2 - h + b / 4 + noise. */
  function shared(n: number, seed: number) {
    const d = nonlinear(n, seed);
    const rng = new Random(seed + 100);
    const h = d.y;
    const y2 = Float64Array.from(h, (v, i) => 2 - v + 0.25 * d.cols[1][i] + 0.1 * rng.normal());
    return { ...d, y1: h, y2 };
  }

  it('one network: each head predicts its own target; a head learns from the other target\'s rows', async () => {
    const d = shared(1800, 4);
    const [tr, te] = split(d.cols, d.names, d.cat, 1500);
    // Target 2 is labelled on one training row in twenty; the rest carry NaN with weight 0.
    const w2 = Float64Array.from({ length: 1500 }, (_, i) => (i % 20 === 0 ? 1 : 0));
    const y2 = Float64Array.from({ length: 1500 }, (_, i) => (w2[i] ? d.y2[i] : NaN));
    const p = mlp.params.parse({ ...quick, num_threads: 1 });
    const lines: string[] = [];
    const [h1, h2] = await mlp.fitJoint!(tr, [d.y1.slice(0, 1500), y2], p, { seed: 5, task: 'regression', weights: [new Float64Array(1500).fill(1), w2], log: (l) => lines.push(l) });
    expect(lines.some((l) => /one network, a head per target: 2 targets/.test(l))).toBe(true);
    const [p1, p2] = [h1.predict(te), h2.predict(te)];
    const [t1, t2] = [d.y1.slice(1500), d.y2.slice(1500)];
    expect(mse(p1, t1) / variance(t1)).toBeLessThan(0.25);
    expect(mse(p2, t2) / variance(t2)).toBeLessThan(0.35); // from 75 labelled rows (0.15 to 0.28 over seeds 5 to 8)
    // the heads differ: head 1 is a poor predictor of target 2
    expect(mse(p1, t2)).toBeGreaterThan(3 * mse(p2, t2));
    // A network of its own on target 2's 75 labelled rows does much worse than the shared one.
    const rows = Array.from({ length: 1500 }, (_, i) => i).filter((i) => w2[i]);
    const own = fromColumns(d.cols.map((c) => Float64Array.from(rows, (i) => c[i])), d.names, d.cat);
    const alone = await mlp.fit(own, Float64Array.from(rows, (i) => d.y2[i]), p, { seed: 5, task: 'regression' });
    expect(mse(p2, t2)).toBeLessThan(0.7 * mse(alone.predict(te), t2)); // 0.31 to 0.54 over seeds 5 to 8
    // one set of weights: the output layer has a column per head; a head's JSON reloads to that head
    const json = h2.toJSON() as { head: number; params: { name: string; shape: number[] }[] };
    expect(json.head).toBe(1);
    expect(json.params.find((q) => q.name === 'Wout')!.shape).toEqual([16, 2]);
    expect(Array.from(mlp.load(JSON.parse(JSON.stringify(json))).predict(te))).toEqual(Array.from(p2));
    expect((h1.toJSON() as { params: unknown }).params).toEqual(json.params);
  });

  it('with one target, fitJoint is the plain fit, byte for byte', async () => {
    const d = nonlinear(600, 8);
    const [tr, te] = split(d.cols, d.names, d.cat, 500);
    const [trv, va] = [fromColumns(d.cols.map((c) => c.slice(0, 400)), d.names, d.cat), fromColumns(d.cols.map((c) => c.slice(400, 500)), d.names, d.cat)];
    const p = mlp.params.parse({ ...quick, epochs: 8, num_threads: 1 });
    const y = d.y.slice(0, 400);
    const yv = d.y.slice(400, 500);
    const w = Float64Array.from(y, (_, i) => (i % 7 ? 1 : 0.5));
    const a = await mlp.fit(trv, y, p, { seed: 9, task: 'regression', weight: w, valid: { X: va, y: yv }, metric: 'rmse' });
    const [b] = await mlp.fitJoint!(trv, [y], p, { seed: 9, task: 'regression', weights: [w], valid: { X: va, ys: [yv] }, metric: 'rmse' });
    expect(b.iterations).toBe(a.iterations);
    expect(Array.from(b.predict(te))).toEqual(Array.from(a.predict(te)));
    expect(tr.rows).toBe(500);
  });
});
