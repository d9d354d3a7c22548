/**
 * @file The cross-validated training of one learner: with `early_stopping: inner` a fold's
 * out-of-fold predictions do not depend on that fold's labels at all (nothing chose a round on
 * them), with `fold` they do; a single-fold scheme's test predictions come from a refit on all
 * train rows.
 */
import { describe, expect, it } from 'vitest';
import { createMatrix, takeRows } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { RunLog } from '../../core/report/run-log.ts';
import { foldRows, innerSplit, makeFolds, type FoldSpec } from '../../core/eval/folds.ts';
import { FoldFeatureCache, trainModel, type EarlyStopping } from '../../core/pipeline/train-stage.ts';
import type { FeatureBlocks } from '../../core/pipeline/feature-stage.ts';
import type { Table } from '../../core/data/table.ts';
import type { ModelEntry } from '../../core/pipeline/schema.ts';
import { models } from '../../models/index.ts';

const N = 600;
const N_TEST = 100;
const rng = new Random(1);
const X = createMatrix(N + N_TEST, 4, ['a', 'b', 'c', 'd']);
for (let i = 0; i < X.data.length; i++) X.data[i] = rng.uniform(-1, 1);
const Y = Float64Array.from({ length: N }, (_, r) => 2 * X.data[r * 4] + Math.sin(3 * X.data[r * 4 + 1]) + 0.5 * rng.normal());
const times = Float64Array.from({ length: N }, (_, r) => r);
const table = { nTrain: N, nTest: N_TEST, n: N + N_TEST, pid: Array.from({ length: N + N_TEST }, (_, i) => `p${i}`) } as unknown as Table;
const blocks: FeatureBlocks = { fixed: new Map([['x', X]]), labelAware: [], keys: {} };

function entry(kind: string, params: Record<string, unknown>): ModelEntry {
  return { id: kind, kind, params: models.get(kind).params.parse(params) as Record<string, unknown> };
}

async function train(e: ModelEntry, y: Float64Array, spec: FoldSpec, mode: 'fold' | 'inner') {
  const folds = makeFolds(N, spec, new Random(2));
  const earlyStopping: EarlyStopping =
    mode === 'inner' ? { mode, stop: Array.from({ length: folds.k }, (_, f) => innerSplit(foldRows(folds, f).train, spec, 0.15, new Random(f)).stop) } : { mode };
  const result = await trainModel({
    entry: e,
    table,
    blocks,
    foldCache: new FoldFeatureCache(blocks, y),
    folds,
    task: 'regression',
    y,
    metric: 'rmse',
    earlyStopping,
    refitAll: folds.k === 1,
    rng: new Random(3),
    log: new RunLog({ quiet: true }),
  });
  return { result, folds };
}

const LEARNERS = [
  entry('gbdt', { n_estimators: 300, learning_rate: 0.1, num_leaves: 7, min_data_in_leaf: 5, early_stopping_rounds: 15, num_threads: 1 }),
  entry('mlp', { hidden: [8], epochs: 12, patience: 3, batch_size: 64, num_threads: 1 }),
];

describe('early stopping and the out-of-fold rows', () => {
  for (const e of LEARNERS) {
    it(`${e.kind}: inner, a fold's OOF predictions ignore that fold's labels; fold, they do not`, async () => {
      const spec: FoldSpec = { scheme: 'kfold', folds: 3 };
      const valid0 = foldRows(makeFolds(N, spec, new Random(2)), 0).valid;
      // The same data with fold 0's validation labels permuted among themselves.
      const permuted = Float64Array.from(Y);
      const moved = new Random(8).shuffle(Array.from(valid0, (r) => Y[r]));
      valid0.forEach((r, i) => (permuted[r] = moved[i]));
      const changed = async (mode: 'fold' | 'inner') => {
        const a = await train(e, Y, spec, mode);
        const b = await train(e, permuted, spec, mode);
        expect(a.result.earlyStopping).toBe(mode);
        expect(a.result.iterations.every((n) => typeof n === 'number' && n > 0)).toBe(true);
        return Array.from(valid0).filter((r) => a.result.oof[r] !== b.result.oof[r]).length;
      };
      expect(await changed('inner')).toBe(0);
      expect(await changed('fold')).toBeGreaterThan(valid0.length / 2);
    });
  }
});

describe('a single fold (time scheme)', () => {
  it('validates the newest rows with the fold model and predicts test rows with a refit on all train rows', async () => {
    const ridge = entry('ridge', { alpha: 1 });
    const spec: FoldSpec = { scheme: 'time', folds: 1, times };
    const { result, folds } = await train(ridge, Y, spec, 'inner');
    const def = models.get('ridge');
    const trainRows = foldRows(folds, 0).train;
    const testX = takeRows(X, Array.from({ length: N_TEST }, (_, i) => N + i));
    const all = await def.fit(takeRows(X, Array.from({ length: N }, (_, i) => i)), Y, ridge.params, { seed: 1, task: 'regression' });
    const fold = await def.fit(takeRows(X, trainRows), Float64Array.from(trainRows, (r) => Y[r]), ridge.params, { seed: 1, task: 'regression' });
    const close = (a: Float64Array, b: Float64Array) => a.every((v, i) => Math.abs(v - b[i]) < 1e-9);
    expect(close(result.test, all.predict(testX))).toBe(true);
    expect(close(result.testFolds[0], fold.predict(testX))).toBe(true);
    expect(close(result.test, result.testFolds[0])).toBe(false);
    expect(result.earlyStopping).toBe('none');
  });
});
