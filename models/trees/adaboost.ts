/**
 * @file Learner kind `adaboost`: boosted shallow trees (models/trees/tree-fitter.ts), as
 * scikit-learn's AdaBoostClassifier / AdaBoostRegressor.
 *
 * - Binary tasks, SAMME (Zhu et al. 2009) with two classes: round m fits a Gini tree (a stump
 *   by default) to the rows under weights w; its class is 1 where the leaf's weighted class-1
 *   share is above 0.5; err = sum(w wrong) / sum(w); alpha = learning_rate * ln((1 - err) / err);
 *   misclassified rows' weights grow by exp(alpha), then weights are renormalised. A perfect tree
 *   (err 0) ends boosting with weight 1; a tree no better than chance (err >= 0.5) ends it and is
 *   dropped (kept, weight 1, when it is the first). The probability of class 1 is
 *   sigmoid(sum(alpha s) / sum(alpha)) with s = +1 / -1 the trees' votes (scikit-learn's
 *   predict_proba for SAMME: same ranking and the same 0.5 threshold as the weighted vote).
 *   Soft labels (pseudo-labels) count as the nearer class.
 * - Regression, AdaBoost.R2 (Drucker 1997): round m draws n rows with replacement with
 *   probabilities w (per-row counts as tree weights, no row copies), fits a squared-error tree,
 *   and from the losses L_i = |pred - y| / max|pred - y| (linear; squared or exponential) gets
 *   err = sum(w L), beta = err / (1 - err), weight learning_rate * ln(1 / beta), and
 *   w_i *= beta^((1 - L_i) * learning_rate). err >= 0.5 ends boosting as above. The prediction
 *   is the weighted median of the trees' predictions.
 *
 * @example
 *   - id: ada
 *     kind: adaboost
 *     params: { n_estimators: 200, learning_rate: 0.5, max_depth: 1 }
 */
import { z } from 'zod';
import { createMatrix, type Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { weightedMedian } from '../gbdt/objectives.ts';
import { ForestBuilder, forestFromJSON, forestToJSON, predictRaw, type Forest } from '../gbdt/predictor.ts';
import { defineModel, type FitContext, type FittedModel, type Task } from '../model.ts';
import { checkTreeInputs } from './forest.ts';
import { treeShape } from './params.ts';
import { TreeFitter } from './tree-fitter.ts';
import { pauser } from '../../core/event-loop.ts';

const params = z
  .object({
    n_estimators: z.number().int().min(1).default(50).describe('Maximum number of boosting rounds (trees); boosting stops earlier on a perfect tree or one no better than chance.'),
    learning_rate: z.number().positive().default(1).describe('Shrinks each tree\'s weight (and, for AdaBoost.R2, the weight update).'),
    loss: z.enum(['linear', 'square', 'exponential']).default('linear').describe('Regression (AdaBoost.R2): loss of a row\'s scaled error L in [0, 1]: L, L^2 or 1 - exp(-L).'),
    ...treeShape,
    max_depth: z.number().int().optional().describe('Maximum depth of each tree; default 1 (stumps) for binary tasks, 3 for regression; -1 or 0: unlimited.'),
  })
  .strict();

type AdaParams = z.output<typeof params>;

/** Rows predicted at a time. */
const CHUNK = 4096;

interface AdaState {
  task: Task;
  /** One single-tree forest per round; leaves hold the class-1 share (binary) or the mean. */
  trees: Forest[];
  /** Tree weights (alpha for SAMME, ln(1 / beta) for AdaBoost.R2). */
  weights: number[];
  names: string[];
  gain: number[];
}

/** n row counts drawn with replacement with probabilities proportional to w (binary search on the cumulative sum). */
function weightedBootstrap(w: Float64Array, rng: Random, counts: Float64Array): void {
  const n = w.length;
  const cum = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) cum[i] = s += w[i];
  counts.fill(0);
  for (let k = 0; k < n; k++) {
    const u = rng.next() * s;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    counts[lo] += 1;
  }
}

/** Scales w to mean 1 over the rows (ratios are what matter; mean 1 keeps min_data_in_leaf's row estimate). */
function normalise(w: Float64Array): void {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i];
  const k = w.length / s;
  for (let i = 0; i < w.length; i++) w[i] *= k;
}

async function fit(X: Matrix, y: Float64Array, p: AdaParams, ctx: FitContext): Promise<FittedModel> {
  checkTreeInputs('adaboost', X, y, ctx);
  const n = X.rows;
  const binary = ctx.task === 'binary';
  const shape = { ...p, max_depth: p.max_depth ?? (binary ? 1 : 3) };
  const rng = new Random(ctx.seed);
  const bootRng = rng.fork('bootstrap');
  const w = ctx.weight ? Float64Array.from(ctx.weight) : new Float64Array(n).fill(1);
  normalise(w);
  const target = binary ? y.map((v) => (v >= 0.5 ? 1 : 0)) : y;
  const counts = new Float64Array(n);
  const leafOf = new Int32Array(n);
  const loss = new Float64Array(n);
  const trees: Forest[] = [];
  const weights: number[] = [];
  const gains: number[][] = [];
  const fitter = await TreeFitter.start(X, target, shape, rng, 'adaboost');
  try {
    const pause = pauser(); // signals are seen between rounds
    for (let m = 0; m < p.n_estimators; m++) {
      const wait = pause();
      if (wait) await wait;
      if (!binary) weightedBootstrap(w, bootRng, counts);
      const tree = fitter.grow(target, binary ? w : counts);
      fitter.leaves(tree, leafOf);
      // Per-row loss in [0, 1]: misclassified (SAMME) or the scaled absolute error (R2).
      let maxErr = 0;
      for (let i = 0; i < n; i++) {
        const pred = tree.values[leafOf[i]];
        loss[i] = binary ? ((pred > 0.5 ? 1 : 0) !== target[i] ? 1 : 0) : Math.abs(pred - y[i]);
        if (w[i] > 0) maxErr = Math.max(maxErr, loss[i]);
      }
      if (!binary && maxErr > 0) {
        for (let i = 0; i < n; i++) {
          const l = loss[i] / maxErr;
          loss[i] = p.loss === 'linear' ? l : p.loss === 'square' ? l * l : 1 - Math.exp(-l);
        }
      }
      let err = 0;
      let sw = 0;
      for (let i = 0; i < n; i++) {
        err += w[i] * loss[i];
        sw += w[i];
      }
      err /= sw;
      const keep = (weight: number) => {
        const builder = new ForestBuilder(X.cols, 0);
        builder.addTree(fitter.rawTree(tree));
        trees.push(builder.build());
        weights.push(weight);
        const g = new Array<number>(X.cols).fill(0);
        tree.tree.feature.forEach((f, k) => (g[f] += tree.tree.gain[k]));
        gains.push(g);
      };
      if (err <= 0) {
        keep(1);
        ctx.log?.(`adaboost: round ${m + 1} fits the training rows exactly; boosting stops`);
        break;
      }
      if (err >= 0.5) {
        if (m === 0) keep(1);
        ctx.log?.(`adaboost: round ${m + 1} has weighted error ${err.toFixed(4)} >= 0.5; boosting stops with ${trees.length} tree(s)`);
        break;
      }
      // SAMME's alpha for two classes and R2's ln(1 / beta) are the same expression.
      const alpha = p.learning_rate * Math.log((1 - err) / err);
      keep(alpha);
      if (m === p.n_estimators - 1) break;
      if (binary) {
        const up = Math.exp(alpha);
        for (let i = 0; i < n; i++) if (loss[i] === 1) w[i] *= up;
      } else {
        const beta = err / (1 - err);
        for (let i = 0; i < n; i++) w[i] *= beta ** ((1 - loss[i]) * p.learning_rate);
      }
      normalise(w);
    }
  } finally {
    await fitter.close();
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const gain = new Array<number>(X.cols).fill(0);
  gains.forEach((g, m) => g.forEach((v, f) => (gain[f] += (weights[m] * v) / total)));
  return adaModel({ task: ctx.task, trees, weights, names: [...X.names], gain });
}

function adaModel(s: AdaState): FittedModel {
  return Object.freeze({
    kind: 'adaboost',
    predict(X: Matrix) {
      if (X.cols !== s.names.length) throw new Error(`adaboost: model was fitted on ${s.names.length} columns, got ${X.cols}`);
      const M = s.trees.length;
      const total = s.weights.reduce((a, b) => a + b, 0);
      const out = new Float64Array(X.rows);
      const v = new Float64Array(M);
      const w = Float64Array.from(s.weights);
      // Row chunks keep the trees' predictions small (M x CHUNK doubles, not M x rows).
      for (let r0 = 0; r0 < X.rows; r0 += CHUNK) {
        const rows = Math.min(CHUNK, X.rows - r0);
        const chunk = createMatrix(rows, X.cols, X.names, X.categorical, X.data.subarray(r0 * X.cols));
        const preds = s.trees.map((t) => predictRaw(t, chunk));
        for (let i = 0; i < rows; i++) {
          if (s.task === 'binary') {
            let f = 0;
            for (let m = 0; m < M; m++) f += preds[m][i] > 0.5 ? s.weights[m] : -s.weights[m];
            out[r0 + i] = 1 / (1 + Math.exp(-f / total));
          } else {
            for (let m = 0; m < M; m++) v[m] = preds[m][i];
            out[r0 + i] = weightedMedian(v, w, M);
          }
        }
      }
      return out;
    },
    importance() {
      return Object.fromEntries(s.names.map((name, i) => [name, s.gain[i]]));
    },
    toJSON() {
      return { kind: 'adaboost', version: 1, task: s.task, names: s.names, gain: s.gain, weights: s.weights, trees: s.trees.map(forestToJSON) };
    },
  });
}

const jsonSchema = z.object({
  kind: z.literal('adaboost'),
  version: z.literal(1),
  task: z.enum(['regression', 'binary']),
  names: z.array(z.string()),
  gain: z.array(z.number()),
  weights: z.array(z.number()),
  trees: z.array(z.record(z.string(), z.unknown())),
});

export const adaboost = defineModel({
  kind: 'adaboost',
  summary: 'AdaBoost on shallow trees: SAMME for binary tasks, AdaBoost.R2 (weighted median) for regression.',
  importanceMethod: 'gain: impurity reduction of the splits on the column, summed over the trees weighted by their boosting weights',
  params,
  fit,
  load(json) {
    const j = jsonSchema.parse(json);
    return adaModel({ ...j, trees: j.trees.map(forestFromJSON) });
  },
});
