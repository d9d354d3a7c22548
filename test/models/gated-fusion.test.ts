/**
 * @file `gated-fusion` learner: on the `segments` stand-in (core/data/synth-table.ts: each
 * modality matters in one segment only) it beats an mlp on the same columns side by side by a
 * clear margin, and its gate sends each segment to that segment's expert; seeded determinism;
 * JSON round trip; binary task; the folds' gate tables pool by row counts. Small data: seconds.
 */
import { describe, expect, it } from 'vitest';
import { fromColumns, type Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { segmentsRows } from '../../core/data/synth-table.ts';
import { gatedFusion } from '../../models/gated-fusion.ts';
import { mlp } from '../../models/mlp.ts';
import { poolGates } from '../../core/pipeline/train-stage.ts';

const SEGMENTS = ['photo', 'text', 'meta'];

/** The segments preset as one Matrix: seg.segment (categorical code), vis.v*, txt.t*, meta.m*. */
function segmentsData(n: number, seed: number): { X: Matrix; y: Float64Array } {
  const { columns, rows } = segmentsRows(n, new Random(seed));
  const feats = columns.filter((c) => /^[vtm]\d+$/.test(c));
  const block = (c: string) => (c[0] === 'v' ? 'vis' : c[0] === 't' ? 'txt' : 'meta');
  const X = fromColumns(
    [Float64Array.from(rows, (r) => SEGMENTS.indexOf(r.segment as string)), ...feats.map((c) => Float64Array.from(rows, (r) => r[c] as number))],
    ['seg.segment', ...feats.map((c) => `${block(c)}.${c}`)],
    [true, ...feats.map(() => false)],
  );
  return { X, y: Float64Array.from(rows, (r) => r.score as number) };
}

function slice(m: Matrix, from: number, to: number): Matrix {
  return { ...m, rows: to - from, data: m.data.slice(from * m.cols, to * m.cols) };
}

function rmse(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (p[i] - y[i]) ** 2;
  return Math.sqrt(s / y.length);
}

const EXPERTS = { visual: ['vis'], textual: ['txt'], metadata: ['meta'] };

describe('gated-fusion', () => {
  const { X, y } = segmentsData(1500, 11);
  const [tr, va, te] = [slice(X, 0, 1000), slice(X, 1000, 1250), slice(X, 1250, 1500)];
  const [ytr, yva, yte] = [y.slice(0, 1000), y.slice(1000, 1250), y.slice(1250)];
  const ctx = { seed: 3, task: 'regression' as const, valid: { X: va, y: yva } };

  it('beats a concatenation mlp on the planted segment signal, and gates each segment to its modality', async () => {
    const gated = await gatedFusion.fit(tr, ytr, gatedFusion.params.parse({ experts: EXPERTS, gate_segment: 'segment', learning_rate: 3e-3, patience: 30 }), ctx);
    const concat = await mlp.fit(tr, ytr, mlp.params.parse({ hidden: [64, 32], dropout: 0.1, loss: 'mse', learning_rate: 3e-3, epochs: 150, patience: 30, batch_size: 128 }), ctx);
    const eg = rmse(gated.predict(te), yte);
    const em = rmse(concat.predict(te), yte);
    // Noise floor 0.3; the mlp must learn segment x modality from the concatenation.
    expect(eg).toBeLessThan(0.85 * em);
    const gates = gated.gates!()!;
    expect(gates.experts).toEqual(['visual', 'textual', 'metadata']);
    expect(gates.segment).toBe('seg.segment');
    expect(gates.rows[0]).toMatchObject({ segment: 'all', n: 250 });
    // Segment code k (photo, text, meta) leans on expert k.
    for (let k = 0; k < 3; k++) {
      const row = gates.rows.find((r) => r.segment === String(k))!;
      expect(row.mean[k]).toBeGreaterThan(0.6);
      expect(row.mean.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });

  it('is deterministic for a seed (on 1 or 2 threads) and survives a JSON round trip', async () => {
    const p = gatedFusion.params.parse({ experts: EXPERTS, epochs: 5 });
    const a = await gatedFusion.fit(tr, ytr, p, ctx);
    const b = await gatedFusion.fit(tr, ytr, p, ctx);
    const pa = a.predict(te);
    expect(Buffer.from(b.predict(te).buffer).equals(Buffer.from(pa.buffer))).toBe(true);
    const c = await gatedFusion.fit(tr, ytr, p, { ...ctx, seed: 4 });
    expect(Buffer.from(c.predict(te).buffer).equals(Buffer.from(pa.buffer))).toBe(false);
    // onnxruntime on 1 or 2 threads: the same bytes (MLAS never splits a reduction).
    const one = await gatedFusion.fit(tr, ytr, { ...p, num_threads: 1 }, ctx);
    const two = await gatedFusion.fit(tr, ytr, { ...p, num_threads: 2 }, ctx);
    expect(Buffer.from(one.predict(te).buffer).equals(Buffer.from(two.predict(te).buffer))).toBe(true);
    const loaded = gatedFusion.load(JSON.parse(JSON.stringify(a.toJSON())));
    expect(Array.from(loaded.predict(te))).toEqual(Array.from(pa));
  });

  it('binary: probabilities that rank the planted label', async () => {
    const yb = ytr.map((v) => (v > 0 ? 1 : 0));
    const m = await gatedFusion.fit(tr, yb, gatedFusion.params.parse({ experts: EXPERTS, learning_rate: 3e-3, epochs: 60 }), { seed: 1, task: 'binary' });
    const p = m.predict(te);
    expect(p.every((v) => v > 0 && v < 1)).toBe(true);
    const pos = Array.from(p).filter((_, i) => yte[i] > 0);
    const neg = Array.from(p).filter((_, i) => yte[i] <= 0);
    let wins = 0;
    for (const a of pos) for (const b of neg) wins += a > b ? 1 : a === b ? 0.5 : 0;
    expect(wins / (pos.length * neg.length)).toBeGreaterThan(0.75);
  });

  it('names a missing expert block and an ambiguous segment column', async () => {
    await expect(gatedFusion.fit(tr, ytr, gatedFusion.params.parse({ experts: { a: ['nope'] } }), ctx)).rejects.toThrow(/block nope has no columns.*blocks: seg, vis, txt, meta/);
    await expect(gatedFusion.fit(tr, ytr, gatedFusion.params.parse({ experts: EXPERTS, gate_segment: 'zzz' }), ctx)).rejects.toThrow(/gate_segment zzz is not a feature column/);
  });

  it('pools fold gate tables weighted by rows', () => {
    const pooled = poolGates([
      { experts: ['a', 'b'], segment: 's', rows: [{ segment: 'all', n: 1, mean: [1, 0] }, { segment: '0', n: 1, mean: [1, 0] }] },
      { experts: ['a', 'b'], segment: 's', rows: [{ segment: 'all', n: 3, mean: [0, 1] }, { segment: '1', n: 3, mean: [0, 1] }] },
    ]);
    expect(pooled.rows).toEqual([
      { segment: 'all', n: 4, mean: [0.25, 0.75] },
      { segment: '0', n: 1, mean: [1, 0] },
      { segment: '1', n: 3, mean: [0, 1] },
    ]);
  });
});
