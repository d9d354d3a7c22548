/**
 * @file The averaged-trees model behind `decision-tree` (one tree on all rows and features) and
 * `random-forest` (many trees, each on a bootstrap of the rows with a random feature subset per
 * node): fitting through TreeFitter, the fitted model (a gbdt flat Forest whose leaves hold
 * value / trees, so the predictor's sum is the average), importance and JSON.
 * Binary tasks: labels in [0, 1]; a leaf holds the class-1 share of its rows, the prediction is
 * the mean over trees (scikit-learn's predict_proba of a forest). Regression: the mean label.
 *
 * @example
 *   const model = await fitForest('random-forest', X, y, { ...shape, trees: 100, bootstrap: true, nodeFeatures: 4 }, ctx);
 *   const same = loadForest('random-forest', JSON.parse(JSON.stringify(model.toJSON())));
 */
import { z } from 'zod';
import type { Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { checkInputs } from '../gbdt/train.ts';
import { ForestBuilder, forestFromJSON, forestToJSON, predictRaw, type Forest } from '../gbdt/predictor.ts';
import type { FitContext, FittedModel, Task } from '../model.ts';
import type { TreeShape } from './params.ts';
import { TreeFitter } from './tree-fitter.ts';
import { pauser } from '../../core/event-loop.ts';

export interface ForestOptions extends TreeShape {
  trees: number;
  /** Each tree on a bootstrap sample: n rows drawn with replacement, as per-row counts. */
  bootstrap: boolean;
  /** Features searched per node (>= the column count: all). */
  nodeFeatures: number;
}

interface ForestState {
  kind: string;
  task: Task;
  forest: Forest;
  names: string[];
  /** Per feature: impurity reduction summed over the splits, averaged over trees. */
  gain: number[];
}

/** Labels must be finite, and in [0, 1] for binary tasks (class 1 share; pseudo-labels may be soft). */
export function checkTreeInputs(kind: string, X: Matrix, y: Float64Array, ctx: FitContext): void {
  checkInputs(X, y, ctx, kind);
  if (ctx.task !== 'binary') return;
  for (let i = 0; i < y.length; i++) {
    if (!(y[i] >= 0 && y[i] <= 1)) throw new Error(`${kind} (task: binary): label ${y[i]} at row ${i}; labels must be 0/1 (or a class-1 probability)`);
  }
}

export async function fitForest(kind: string, X: Matrix, y: Float64Array, o: ForestOptions, ctx: FitContext): Promise<FittedModel> {
  checkTreeInputs(kind, X, y, ctx);
  const n = X.rows;
  const rng = new Random(ctx.seed);
  const bootRng = rng.fork('bootstrap');
  const w = new Float64Array(n);
  const builder = new ForestBuilder(X.cols, 0);
  const gain = new Array<number>(X.cols).fill(0);
  const fitter = await TreeFitter.start(X, y, o, rng, kind);
  try {
    const pause = pauser(); // signals are seen between trees
    for (let t = 0; t < o.trees; t++) {
      const p = pause();
      if (p) await p;
      if (o.bootstrap) {
        w.fill(0);
        for (let k = 0; k < n; k++) w[bootRng.int(n)] += 1;
      } else w.fill(1);
      if (ctx.weight) for (let i = 0; i < n; i++) w[i] *= ctx.weight[i];
      const tree = fitter.grow(y, w, o.nodeFeatures);
      const values = tree.values.map((v) => v / o.trees);
      builder.addTree(fitter.rawTree(tree, values));
      tree.tree.feature.forEach((f, k) => (gain[f] += tree.tree.gain[k] / o.trees));
    }
  } finally {
    await fitter.close();
  }
  return forestModel({ kind, task: ctx.task, forest: builder.build(), names: [...X.names], gain });
}

function forestModel(s: ForestState): FittedModel {
  return Object.freeze({
    kind: s.kind,
    predict(X: Matrix) {
      if (X.cols !== s.names.length) throw new Error(`${s.kind}: model was fitted on ${s.names.length} columns, got ${X.cols}`);
      const p = predictRaw(s.forest, X);
      // A mean of class-1 shares can leave [0, 1] by a rounding error.
      if (s.task === 'binary') for (let i = 0; i < p.length; i++) p[i] = Math.min(1, Math.max(0, p[i]));
      return p;
    },
    importance() {
      return Object.fromEntries(s.names.map((name, i) => [name, s.gain[i]]));
    },
    toJSON() {
      return { kind: s.kind, version: 1, task: s.task, names: s.names, gain: s.gain, forest: forestToJSON(s.forest) };
    },
  });
}

const jsonSchema = z.object({
  kind: z.string(),
  version: z.literal(1),
  task: z.enum(['regression', 'binary']),
  names: z.array(z.string()),
  gain: z.array(z.number()),
  forest: z.record(z.string(), z.unknown()),
});

export function loadForest(kind: string, json: unknown): FittedModel {
  const j = jsonSchema.parse(json);
  if (j.kind !== kind) throw new Error(`${kind}.load: not a ${kind} model (kind ${j.kind})`);
  return forestModel({ ...j, forest: forestFromJSON(j.forest) });
}
