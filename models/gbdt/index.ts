/**
 * @file Learner kind `gbdt`: histogram-based, LightGBM-style gradient-boosted trees in
 * TypeScript (leaf-wise growth, quantile bins with a missing bin, native categorical splits,
 * l2 / l1 / huber / pseudo_huber / mape / binary objectives, bagging, feature fraction, early
 * stopping on ctx.valid with the run's metric on the label scale, refits of a chosen round count
 * through ctx.iterations), training on two cores through worker threads over shared memory.
 * The files: params (schema), binning, histogram, split, engine (shared state + job), worker,
 * pool, grow (one tree), objectives, train (boosting loop), predictor (flat forest, JSON).
 *
 * @example
 *   import { gbdt } from './models/gbdt/index.ts';
 *   const params = gbdt.params.parse({ n_estimators: 500, num_leaves: 63, learning_rate: 0.05 });
 *   const model = await gbdt.fit(X, y, params, { seed: 1, task: 'regression', valid: { X: Xv, y: yv } });
 *   const p = model.predict(Xtest);
 *   const same = gbdt.load(JSON.parse(JSON.stringify(model.toJSON())));
 */
import { z } from 'zod';
import type { Matrix } from '../../core/matrix.ts';
import { defineModel, type FittedModel } from '../model.ts';
import { objective, type ObjectiveName } from './objectives.ts';
import { gbdtParams } from './params.ts';
import { forestFromJSON, forestToJSON, numTrees, predictRaw, type Forest } from './predictor.ts';
import { train } from './train.ts';

export { gbdtParams, type GbdtParams } from './params.ts';

export type ImportanceType = 'gain' | 'split';

/** A fitted gbdt model; predict returns probabilities for the binary objective. */
export interface GbdtModel extends FittedModel {
  readonly kind: 'gbdt';
  readonly objective: ObjectiveName;
  /** 0-based index of the last kept round (the best one under early stopping). */
  readonly bestIteration: number;
  readonly numTrees: number;
  /** Raw scores (log-odds for binary) of the first `trees` trees. */
  predictRaw(X: Matrix, trees?: number): Float64Array;
  importance(type?: ImportanceType): Record<string, number>;
}

interface ModelState {
  forest: Forest;
  objective: ObjectiveName;
  bestIteration: number;
  /** Validation rows chose the round count (early stopping). */
  validated: boolean;
  names: string[];
  categorical: boolean[];
  gain: number[];
  splits: number[];
}

const jsonSchema = z.object({
  kind: z.literal('gbdt'),
  version: z.literal(1),
  objective: z.enum(['l2', 'l1', 'huber', 'pseudo_huber', 'mape', 'binary']),
  bestIteration: z.number(),
  validated: z.boolean().default(false),
  names: z.array(z.string()),
  categorical: z.array(z.boolean()),
  gain: z.array(z.number()),
  splits: z.array(z.number()),
  forest: z.record(z.string(), z.unknown()),
});

function makeModel(s: ModelState): GbdtModel {
  const obj = objective(s.objective, 1);
  const checkCols = (X: Matrix) => {
    if (X.cols !== s.names.length) throw new Error(`gbdt: model was fitted on ${s.names.length} columns, got ${X.cols}`);
  };
  return Object.freeze({
    kind: 'gbdt' as const,
    objective: s.objective,
    bestIteration: s.bestIteration,
    iterations: s.validated ? s.bestIteration + 1 : undefined,
    numTrees: numTrees(s.forest),
    predictRaw(X: Matrix, trees?: number) {
      checkCols(X);
      return predictRaw(s.forest, X, trees);
    },
    predict(X: Matrix) {
      checkCols(X);
      const raw = predictRaw(s.forest, X);
      if (s.objective === 'binary') for (let i = 0; i < raw.length; i++) raw[i] = obj.transform(raw[i]);
      return raw;
    },
    importance(type: ImportanceType = 'gain') {
      const v = type === 'split' ? s.splits : s.gain;
      return Object.fromEntries(s.names.map((name, i) => [name, v[i]]));
    },
    toJSON() {
      return {
        kind: 'gbdt',
        version: 1,
        objective: s.objective,
        bestIteration: s.bestIteration,
        validated: s.validated,
        names: s.names,
        categorical: s.categorical,
        gain: s.gain,
        splits: s.splits,
        forest: forestToJSON(s.forest),
      };
    },
  });
}

export const gbdt = defineModel({
  kind: 'gbdt',
  summary: 'Histogram gradient-boosted trees (LightGBM-style, leaf-wise, native categoricals, two cores), in TypeScript.',
  params: gbdtParams,
  usesValidation: (p) => p.early_stopping_rounds > 0,
  async fit(X, y, params, ctx) {
    const r = await train(X, y, params, ctx);
    return makeModel({
      forest: r.forest,
      objective: r.objective,
      bestIteration: r.bestIteration,
      validated: r.validated,
      names: [...X.names],
      categorical: [...X.categorical],
      gain: Array.from(r.gain),
      splits: Array.from(r.splits),
    });
  },
  load(json) {
    const j = jsonSchema.parse(json);
    return makeModel({ ...j, forest: forestFromJSON(j.forest) });
  },
});
