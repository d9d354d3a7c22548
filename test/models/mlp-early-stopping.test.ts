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
import type { FitContext } from '../../models/model.ts';

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
/** Fits with the run metric MAPE on the log-fitted label; returns the model and each epoch's metrics. */
async function fit(extraParams: Record<string, unknown>, extraCtx: Partial<FitContext> = {}) {
  const seen: Record<string, number>[] = [];
  const m = await mlp.fit(tr, ytr, params(extraParams), {
    seed: 1,
    task: 'regression',
    metric: 'mape',
    toLabel: Math.exp,
    valid: { X: va, y: yva.map(Math.log) },
    onIter: (_, metrics) => seen.push({ ...metrics }),
    ...extraCtx,
  });
  return { m, seen };
}

describe('mlp early stopping on the run metric', () => {
  it('watches MAPE of the label (exp of the prediction) and keeps its best epoch', async () => {
    const { m, seen } = await fit({});
    const mapes = seen.map((x) => x.valid_mape);
    const best = Math.min(...mapes);
    expect(m.iterations).toBe(mapes.indexOf(best) + 1);
    expect(mape(yva, m.predict(va).map(Math.exp))).toBeCloseTo(best, 4);
  });

  it('maximises a higher-is-better metric; the metric param wins over the run metric', async () => {
    const { m, seen } = await fit({ metric: 'src' });
    const srcs = seen.map((x) => x.valid_src);
    expect(srcs.every((v) => Number.isFinite(v))).toBe(true);
    const best = Math.max(...srcs);
    expect(m.iterations).toBe(srcs.indexOf(best) + 1);
    expect(src(yva, m.predict(va))).toBeCloseTo(best, 4);
  });

  it('a refit trains the given epochs and validates nothing', async () => {
    const { m, seen } = await fit({}, { iterations: { count: 3, rows: 200 } });
    expect(seen).toHaveLength(3);
    expect(seen.every((x) => !('valid_mape' in x))).toBe(true);
    expect(m.iterations).toBeUndefined();
  });
});
