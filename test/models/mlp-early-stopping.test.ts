/**
 * @file The mlp's early stopping on the run's metric: validation.metric (ctx.metric) on the
 * label scale after the inverse target transform, higher-is-better metrics maximised, the
 * learner's own `metric` param first; a refit (ctx.iterations) trains the chosen epochs.
 */
import { describe, expect, it } from 'vitest';
import { fromColumns } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { mape, src } from '../../core/eval/metrics.ts';
import { mlp } from '../../models/mlp.ts';

const rng = new Random(21);
const N = 400;
const cols = Array.from({ length: 6 }, () => Float64Array.from({ length: N }, () => rng.normal()));
// A positive label, fitted on the log scale as `transform: log` does.
const label = Float64Array.from({ length: N }, (_, i) => Math.exp(2 + 0.6 * cols[0][i] + 0.3 * Math.sin(2 * cols[1][i]) + 0.5 * rng.normal()));
const X = (from: number, to: number) => fromColumns(cols.map((c) => c.slice(from, to)), cols.map((_, c) => `x${c}`));
const [tr, va] = [X(0, 300), X(300, N)];
const ytr = label.slice(0, 300).map(Math.log);
const yva = label.slice(300);
const params = (extra: Record<string, unknown> = {}) =>
  mlp.params.parse({ hidden: [64], dropout: 0, batch_norm: false, learning_rate: 0.01, lr_schedule: 'constant', batch_size: 32, epochs: 25, patience: 4, num_threads: 1, ...extra });

describe('mlp early stopping on the run metric', () => {
  it('watches MAPE of the label (exp of the prediction) and keeps its best epoch', async () => {
    const seen: number[] = [];
    const m = await mlp.fit(tr, ytr, params(), {
      seed: 1,
      task: 'regression',
      metric: 'mape',
      toLabel: Math.exp,
      valid: { X: va, y: yva.map(Math.log) },
      onIter: (_, metrics) => seen.push(metrics.valid_mape),
    });
    const best = Math.min(...seen);
    expect(m.iterations).toBe(seen.indexOf(best) + 1);
    expect(mape(yva, m.predict(va).map(Math.exp))).toBeCloseTo(best, 4);
  });

  it('maximises a higher-is-better metric; the metric param wins over the run metric', async () => {
    const seen: number[] = [];
    const m = await mlp.fit(tr, ytr, params({ metric: 'src' }), {
      seed: 1,
      task: 'regression',
      metric: 'mape',
      toLabel: Math.exp,
      valid: { X: va, y: yva.map(Math.log) },
      onIter: (_, metrics) => seen.push(metrics.valid_src),
    });
    expect(seen.every((v) => Number.isFinite(v))).toBe(true);
    const best = Math.max(...seen);
    expect(m.iterations).toBe(seen.indexOf(best) + 1);
    expect(src(yva, m.predict(va))).toBeCloseTo(best, 4);
  });

  it('a refit trains the given epochs and validates nothing', async () => {
    const epochs: number[] = [];
    const m = await mlp.fit(tr, ytr, params(), {
      seed: 1,
      task: 'regression',
      metric: 'mape',
      iterations: { count: 3, rows: 200 },
      valid: { X: va, y: yva.map(Math.log) },
      onIter: (e, metrics) => {
        epochs.push(e);
        expect(Object.keys(metrics)).not.toContain('valid_mape');
      },
    });
    expect(epochs).toEqual([1, 2, 3]);
    expect(m.iterations).toBeUndefined();
  });
});
