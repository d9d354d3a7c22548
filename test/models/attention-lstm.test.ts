/**
 * @file `attention-lstm` learner and `user-history` feature: the whole network's gradient against
 * finite differences (LSTM with absent-slot masks, attention, fusion, head); on the `sequence`
 * stand-in (core/data/synth-table.ts) the learner over a user's previous posts beats an mlp
 * without history by a clear margin; the history block holds only strictly earlier posts and
 * only the fold's training labels; groups mode on a binary task; determinism and JSON.
 */
import { describe, expect, it } from 'vitest';
import { fromColumns, hconcat, type Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { sequenceRows } from '../../core/data/synth-table.ts';
import { attentionLstm } from '../../models/attention-lstm.ts';
import { forward, initParams, type LstmSpec } from '../../models/attention-lstm/net.ts';
import { fitColumnEncoding } from '../../models/nn/columns.ts';
import { Graph, type T } from '../../models/nn/graph.ts';
import { Session, f32 } from '../../models/nn/session.ts';
import { mlp } from '../../models/mlp.ts';
import { userHistory } from '../../features/user-history.ts';
import { fakeContext, fakeTable, at } from '../features/fake-context.ts';

function rmse(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (p[i] - y[i]) ** 2;
  return Math.sqrt(s / y.length);
}

function rowsOf(m: Matrix, rows: ArrayLike<number>): Matrix {
  const data = new Float32Array(rows.length * m.cols);
  for (let i = 0; i < rows.length; i++) data.set(m.data.subarray(rows[i] * m.cols, (rows[i] + 1) * m.cols), i * m.cols);
  return { ...m, rows: rows.length, data };
}

describe('attention-lstm network', () => {
  it('gradients of every parameter match finite differences (masked history slots, attention, head columns)', () => {
    const rng = new Random(5);
    const n = 4;
    // Columns: slot 2 (f, label, known, age, present), slot 1 (same), own f, a head column.
    const names = ['h.h2.f', 'h.h2.label', 'h.h2.label_known', 'h.h2.age_days', 'h.h2.present', 'h.h1.f', 'h.h1.label', 'h.h1.label_known', 'h.h1.age_days', 'h.h1.present', 'f', 'extra'];
    const present2 = [1, 0, 1, 0];
    const cols = names.map((nm, c) => Float64Array.from({ length: n }, (_, r) => (nm.endsWith('present') ? (c < 5 ? present2[r] : 1) : nm.endsWith('known') ? 1 : rng.normal())));
    const X = fromColumns(cols, names);
    const enc = fitColumnEncoding(X);
    const spec: LstmSpec = {
      tokens: [
        { cols: [0, 1, 2, 3], proj: 0, present: 4 },
        { cols: [5, 6, 7, 8], proj: 0, present: 9 },
        { cols: [10], proj: 0, present: -1 },
      ],
      projWidths: [4],
      head: [11],
      dim: 3,
      units: 4,
      heads: 2,
      dense: [3],
      dropout: 0,
    };
    const params = initParams(spec, enc, rng);
    const g = new Graph();
    const w = new Map<string, T>(params.map((p) => [p.name, g.input(p.name, p.shape)]));
    const out = forward(g, spec, enc, w, false);
    const R = Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
    const loss = g.reduceSum(g.mul(out, g.constant(R, [n])), [0], false);
    const grads = g.gradients(
      loss,
      params.map((p) => w.get(p.name)!),
    );
    g.output(loss, 'loss');
    grads.forEach((d, i) => g.output(d, `d${i}`));
    const s = new Session(g.toModel(), 1, ['loss', ...grads.map((_, i) => `d${i}`)]);
    const feeds = () => ({ rows: f32(X.data, [n, X.cols]), ...Object.fromEntries(params.map((p) => [p.name, f32(p.data, p.shape)])) });
    const res = s.run(feeds());
    const eps = 1e-2;
    let checked = 0;
    params.forEach((p, k) => {
      const analytic = res[`d${k}`].data as Float32Array;
      for (const j of [0, Math.floor(p.data.length / 2), p.data.length - 1]) {
        const v = p.data[j];
        p.data[j] = v + eps;
        const up = (s.run(feeds()).loss.data as Float32Array)[0];
        p.data[j] = v - eps;
        const down = (s.run(feeds()).loss.data as Float32Array)[0];
        p.data[j] = v;
        const numeric = (up - down) / (2 * eps);
        expect(Math.abs(analytic[j] - numeric)).toBeLessThan(1e-2 * (1 + Math.abs(numeric)));
        checked++;
      }
    });
    expect(checked).toBe(3 * params.length);
    s.dispose();
  });
});

/** The sequence preset as a table (user, postdate) and the `post` block x1..x4. */
function sequenceData(n: number, seed: number) {
  const rows = sequenceRows(n, new Random(seed), 60);
  const table = fakeTable({
    n,
    uid: rows.map((r) => r.user as string),
    columns: { postdate: { type: 'number', values: Float64Array.from(rows, (r) => Date.parse(`${r.posted_at as string}Z`) / 1000) } },
  });
  const post = fromColumns(
    ['x1', 'x2', 'x3', 'x4'].map((c) => Float64Array.from(rows, (r) => r[c] as number)),
    ['post.x1', 'post.x2', 'post.x3', 'post.x4'],
  );
  return { table, post, y: Float64Array.from(rows, (r) => r.score as number) };
}

describe('user-history feature', () => {
  it('holds strictly earlier posts of the same user, and only the fold-training labels', () => {
    const time = Float64Array.of(10, 20, 30, 30, 40, 5);
    const table = fakeTable({ n: 6, uid: ['a', 'a', 'a', 'a', 'a', 'b'], columns: { postdate: { type: 'number', values: time } } });
    const post = fromColumns([Float64Array.of(1, 2, 3, 4, 5, 6)], ['post.x']);
    const y = Float64Array.of(100, 200, 300, 400, 500, 600);
    const fit = userHistory.fit(fakeContext(table, { post }), userHistory.params.parse({ k: 2 }), Int32Array.of(0, 2, 3, 4, 5), y);
    const m = fit.apply(Int32Array.from({ length: 6 }, (_, i) => i));
    expect(m.names).toEqual(['h1.post.x', 'h1.label', 'h1.label_known', 'h1.age_days', 'h1.present', 'h2.post.x', 'h2.label', 'h2.label_known', 'h2.age_days', 'h2.present']);
    // Row 0: first post, no history.
    expect([at(m, 0, 'h1.present'), at(m, 0, 'h2.present')]).toEqual([0, 0]);
    // Row 2 (t=30): h1 = row 1 (not a training row: features, no label), h2 = row 0.
    expect([at(m, 2, 'h1.post.x'), at(m, 2, 'h1.label'), at(m, 2, 'h1.label_known')]).toEqual([2, NaN, 0]);
    expect([at(m, 2, 'h2.post.x'), at(m, 2, 'h2.label'), at(m, 2, 'h2.label_known')]).toEqual([1, 100, 1]);
    // Rows 2 and 3 share a time: neither is the other's past.
    expect(at(m, 3, 'h1.post.x')).toBe(2);
    // Row 4: the two t=30 posts, latest first by row order.
    expect([at(m, 4, 'h1.label'), at(m, 4, 'h2.label')]).toEqual([400, 300]);
    expect(at(m, 4, 'h1.age_days')).toBeCloseTo(Math.log1p(10 / 86400), 9);
    // Another user's posts never appear.
    expect(at(m, 5, 'h1.present')).toBe(0);
    // Training rows' values equal apply's for the same rows (no row sees its own label either way).
    expect(Array.from(fit.train.data)).toEqual(Array.from(fit.apply(Int32Array.of(0, 2, 3, 4, 5)).data));
  });
});

describe('attention-lstm learner', () => {
  it("over a user's previous posts beats an mlp without history on the planted sequence signal", async () => {
    const n = 1500;
    const { table, post, y } = sequenceData(n, 21);
    const order = new Random(2).shuffle(Array.from({ length: n }, (_, i) => i));
    const [tr, va, te] = [Int32Array.from(order.slice(0, 1000)), Int32Array.from(order.slice(1000, 1250)), Int32Array.from(order.slice(1250))];
    // As the runner does: the history block fitted on the training rows only.
    const fit = userHistory.fit(fakeContext(table, { post }), userHistory.params.parse({ k: 6 }), tr, y);
    const hist = (m: Matrix): Matrix => ({ ...m, names: m.names.map((c) => `hist.${c}`) });
    const both = (rows: Int32Array, h: Matrix) => hconcat([rowsOf(post, rows), hist(h)]);
    const [Xtr, Xva, Xte] = [both(tr, fit.train), both(va, fit.apply(va)), both(te, fit.apply(te))];
    const yOf = (rows: Int32Array) => Float64Array.from(rows, (r) => y[r]);
    const ctx = { seed: 3, task: 'regression' as const };
    const alstm = await attentionLstm.fit(Xtr, yOf(tr), attentionLstm.params.parse({ sequence: 'user_history', history: 'hist', units: 16, heads: 2, dense: [16], learning_rate: 3e-3, patience: 20 }), { ...ctx, valid: { X: Xva, y: yOf(va) } });
    const plain = await mlp.fit(rowsOf(post, tr), yOf(tr), mlp.params.parse({ hidden: [64, 32], loss: 'mse', learning_rate: 3e-3, epochs: 150, patience: 20, batch_size: 128 }), { ...ctx, valid: { X: rowsOf(post, va), y: yOf(va) } });
    const ea = rmse(alstm.predict(Xte), yOf(te));
    const em = rmse(plain.predict(rowsOf(post, te)), yOf(te));
    // Without history the user's form (variance about 0.9) and the previous x1 are unexplained.
    expect(ea).toBeLessThan(0.8 * em);
    // Same seed, same bytes; JSON round trip.
    const again = attentionLstm.load(JSON.parse(JSON.stringify(alstm.toJSON())));
    expect(Array.from(again.predict(Xte))).toEqual(Array.from(alstm.predict(Xte)));
  });

  it('groups mode: binary on feature tokens, deterministic for a seed', async () => {
    const rng = new Random(9);
    const n = 600;
    const cols = Array.from({ length: 5 }, () => Float64Array.from({ length: n }, () => rng.normal()));
    const cat = Float64Array.from({ length: n }, () => rng.int(3));
    const X = fromColumns([...cols, cat], ['a.x0', 'a.x1', 'a.x2', 'b.x3', 'b.x4', 'c.k'], [false, false, false, false, false, true]);
    const y = Float64Array.from({ length: n }, (_, i) => (cols[0][i] * cols[3][i] + (cat[i] === 2 ? 1 : -0.5) + 0.3 * rng.normal() > 0 ? 1 : 0));
    const tr = Int32Array.from({ length: 450 }, (_, i) => i);
    const te = Int32Array.from({ length: 150 }, (_, i) => 450 + i);
    const p = attentionLstm.params.parse({ tokens: 'blocks', epochs: 60, learning_rate: 3e-3, units: 16, heads: 2 });
    const ytr = Float64Array.from(tr, (r) => y[r]);
    const a = await attentionLstm.fit(rowsOf(X, tr), ytr, p, { seed: 1, task: 'binary' });
    const b = await attentionLstm.fit(rowsOf(X, tr), ytr, p, { seed: 1, task: 'binary' });
    const pa = a.predict(rowsOf(X, te));
    expect(Array.from(b.predict(rowsOf(X, te)))).toEqual(Array.from(pa));
    expect(pa.every((v) => v > 0 && v < 1)).toBe(true);
    const yte = Array.from(te, (r) => y[r]);
    const pos = Array.from(pa).filter((_, i) => yte[i] === 1);
    const neg = Array.from(pa).filter((_, i) => yte[i] === 0);
    let wins = 0;
    for (const u of pos) for (const v of neg) wins += u > v ? 1 : u === v ? 0.5 : 0;
    expect(wins / (pos.length * neg.length)).toBeGreaterThan(0.8);
  });

  it('names the missing history block and the missing own columns', async () => {
    const X = fromColumns([Float64Array.of(1, 2, 3)], ['post.x1']);
    await expect(attentionLstm.fit(X, Float64Array.of(1, 2, 3), attentionLstm.params.parse({ sequence: 'user_history' }), { seed: 1, task: 'regression' })).rejects.toThrow(/user-history block "history".*its blocks: post/);
    const H = fromColumns([1, 2, 3, 4, 5].map(() => Float64Array.of(1, 1, 1)), ['hist.h1.post.x9', 'hist.h1.label', 'hist.h1.label_known', 'hist.h1.age_days', 'hist.h1.present']);
    await expect(attentionLstm.fit(hconcat([X, H]), Float64Array.of(1, 2, 3), attentionLstm.params.parse({ sequence: 'user_history', history: 'hist' }), { seed: 1, task: 'regression' })).rejects.toThrow(/post.x9 is not among the model's features/);
  });
});
