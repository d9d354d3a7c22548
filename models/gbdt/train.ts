/**
 * @file The boosting loop: bins the data, allocates the shared engine, starts the thread pool,
 * and for each round computes gradients, draws the tree's features and (every bagging_freq
 * rounds) its rows, grows a tree, refits leaves for l1-type losses, updates training and
 * validation scores, and applies early stopping (keeping the best round; the metric is scored
 * on the label scale). A refit (ctx.iterations) trains a given round count. Workers are always
 * terminated before returning.
 *
 * @example
 *   const result = await train(X, y, gbdtParams.parse({}), { seed: 1, task: 'regression' });
 */
import os from 'node:os';
import type { Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { METRICS, labelScorer, type MetricName } from '../../core/eval/metrics.ts';
import type { FitContext } from '../model.ts';
import { binMatrix, fitBinMappers, type BinMapper } from './binning.ts';
import { allocateEngine } from './engine.ts';
import { Grower, binTreeLeaves, type BinTree } from './grow.ts';
import { objective, weightedMedian, type ObjectiveName } from './objectives.ts';
import type { GbdtParams } from './params.ts';
import { ThreadPool } from './pool.ts';
import { FLAG_CATEGORICAL, FLAG_DEFAULT_LEFT, ForestBuilder, type Forest } from './predictor.ts';
import { pauser } from '../../core/event-loop.ts';

export interface TrainResult {
  forest: Forest;
  objective: ObjectiveName;
  bestIteration: number;
  /** True when validation rows chose the number of rounds (early stopping). */
  validated: boolean;
  metric: string | null;
  bestScore: number | null;
  gain: Float64Array;
  splits: Float64Array;
}

/** Threads to use: the param, or min(2, cores) and 1 for small data. */
export function resolveThreads(p: Pick<GbdtParams, 'num_threads'>, n: number, F: number): number {
  if (p.num_threads > 0) return Math.min(p.num_threads, 64, Math.max(1, F));
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  if (n * F < 2_000_000) return 1;
  return Math.max(1, Math.min(2, cores, F));
}

/** A bin-space tree with the given leaf values as the raw-value tree ForestBuilder takes. */
export function toRawTree(tree: BinTree, mappers: readonly BinMapper[], values: number[]) {
  const flags = tree.feature.map((_, i) => (tree.catBins[i] ? FLAG_CATEGORICAL : tree.defaultLeft[i] ? FLAG_DEFAULT_LEFT : 0));
  const threshold = tree.feature.map((f, i) => (tree.catBins[i] ? 0 : mappers[f].bounds[tree.thresholdBin[i]]));
  const cats = tree.feature.map((f, i) => {
    const cb = tree.catBins[i];
    if (!cb) return null;
    const out: number[] = [];
    const m = mappers[f];
    for (let b = 0; b < m.numBins - 1; b++) if ((cb[b >> 5] >>> (b & 31)) & 1) out.push(m.cats[b]);
    return out;
  });
  return { feature: tree.feature, threshold, left: tree.left, right: tree.right, flags, cats, leafValue: values };
}

/** Shape and finiteness checks of fit inputs, errors prefixed with the learner kind. */
export function checkInputs(X: Matrix, y: Float64Array, ctx: FitContext, kind = 'gbdt'): void {
  if (X.rows !== y.length) throw new Error(`${kind}: ${X.rows} rows but ${y.length} labels`);
  if (X.rows === 0) throw new Error(`${kind}: no training rows`);
  for (let i = 0; i < y.length; i++) if (!Number.isFinite(y[i])) throw new Error(`${kind}: label of row ${i} is ${y[i]}`);
  if (ctx.weight && ctx.weight.length !== X.rows) throw new Error(`${kind}: ${ctx.weight.length} weights for ${X.rows} rows`);
  if (ctx.valid && ctx.valid.X.cols !== X.cols) throw new Error(`${kind}: validation matrix has ${ctx.valid.X.cols} columns, training has ${X.cols}`);
}

export async function train(X: Matrix, y: Float64Array, p: GbdtParams, ctx: FitContext): Promise<TrainResult> {
  checkInputs(X, y, ctx);
  const objName: ObjectiveName = p.objective ?? (ctx.task === 'binary' ? 'binary' : 'l2');
  if (ctx.task === 'binary' && objName !== 'binary') throw new Error(`gbdt: objective ${objName} on a binary task`);
  const obj = objective(objName, p.delta);
  // The learner's own metric, else the run's, scored on the label scale (toLabel undoes a target transform).
  const metricName: MetricName = p.metric ?? ctx.metric ?? (objName === 'binary' ? 'logloss' : 'rmse');
  const metric = METRICS[metricName];
  const toLabel = ctx.toLabel;
  const n = X.rows;
  // A refit trains the rounds an early-stopped fit chose, scaled to this fit's rows, and validates nothing.
  const refit = ctx.iterations;
  const rounds = refit ? Math.max(1, Math.round((refit.count * n) / refit.rows)) : p.n_estimators;
  const valid = refit ? undefined : ctx.valid;
  const stopping = valid !== undefined && p.early_stopping_rounds > 0;
  const validLabels = valid ? (toLabel ? valid.y.map(toLabel) : valid.y) : null;
  const scoreValid = validLabels ? labelScorer(metricName, validLabels) : null;
  const F = X.cols;
  const rng = new Random(ctx.seed);
  const mappers = fitBinMappers(X, p.max_bin, p.bin_sample_rows, rng.fork('bins'));
  const threads = resolveThreads(p, n, F);
  const numBins = Int32Array.from(mappers, (m) => m.numBins);
  const missingBin = Int32Array.from(mappers, (m) => m.numBins - 1);
  const slots = p.num_leaves;
  // Packed histograms when every row has the same hessian and counts leave room for 2^14+ gradient levels.
  let packM = 0;
  if (obj.constantHessian && !ctx.weight) {
    const M = 2 ** Math.ceil(Math.log2(n + 1));
    if (2 ** 52 / M / n >= 16384) packM = M;
  }
  const packQ = packM ? Math.floor(2 ** 52 / packM / n) : 0;
  // Histograms of small leaves read a row-major copy of the bins (n * F more bytes).
  const rowBins = new Uint8Array(new SharedArrayBuffer(Math.max(1, n * F)));
  const bins = binMatrix(X, mappers, true, rowBins);
  const init = allocateEngine({
    packM,
    n,
    bins,
    rowBins,
    numBins,
    isCat: Uint8Array.from(mappers, (m) => (m.categorical ? 1 : 0)),
    slots,
    threads,
    cfg: {
      lambdaL1: p.lambda_l1,
      lambdaL2: p.lambda_l2,
      minDataInLeaf: p.min_data_in_leaf,
      minSumHessian: p.min_sum_hessian_in_leaf,
      minGainToSplit: p.min_gain_to_split,
      catSmooth: p.cat_smooth,
      catL2: p.cat_l2,
      minDataPerGroup: p.min_data_per_group,
      maxCatThreshold: p.max_cat_threshold,
      maxCatToOnehot: p.max_cat_to_onehot,
    },
  });
  const vBins = valid ? binMatrix(valid.X, mappers, false) : null;
  const vn = valid ? valid.X.rows : 0;
  const w = ctx.weight;
  const initScore = obj.init(y, w);
  const score = new Float64Array(n).fill(initScore);
  const vScore = new Float64Array(vn).fill(initScore);
  const vPred = new Float64Array(vn);
  const builder = new ForestBuilder(F, initScore);
  const treeStats: { feature: number[]; gain: number[] }[] = [];
  const renewW = obj.renewWeights ? obj.renewWeights(y, w) : null;
  const featRng = rng.fork('features');
  const bagRng = rng.fork('bagging');
  const bagging = p.bagging_freq > 0 && p.bagging_fraction < 1;
  const bagRows = new Int32Array(bagging ? Math.max(1, Math.round(n * p.bagging_fraction)) : 0);
  const inBag = new Uint8Array(bagging ? n : 0);
  const oob = new Int32Array(bagging ? n - bagRows.length : 0);
  const leafOf = new Int32Array(Math.max(vn, oob.length));
  const nUse = Math.max(1, Math.round(F * p.feature_fraction));
  const featOrder = Int32Array.from({ length: F }, (_, f) => f);
  let best = -1;
  let bestScore: number | null = null;
  const pool = await ThreadPool.start(init);
  try {
    const grower = new Grower(init, pool, {
      numLeaves: p.num_leaves,
      maxDepth: p.max_depth,
      minDataInLeaf: p.min_data_in_leaf,
      minSumHessian: p.min_sum_hessian_in_leaf,
      lambdaL1: p.lambda_l1,
      lambdaL2: p.lambda_l2,
    }, slots, missingBin);
    const resid = renewW ? new Float64Array(n) : null;
    const residW = renewW ? new Float64Array(n) : null;
    const pause = pauser(); // signals are seen between rounds (a one-thread fit never waits on a worker)
    for (let it = 0; it < rounds; it++) {
      const wait = pause();
      if (wait) await wait;
      obj.gradients(y, score, w, init.gh);
      // Features of this tree.
      if (nUse < F) {
        init.featMask.fill(0);
        for (let i = 0; i < nUse; i++) {
          const j = i + featRng.int(F - i);
          const t = featOrder[i];
          featOrder[i] = featOrder[j];
          featOrder[j] = t;
          init.featMask[featOrder[i]] = 1;
        }
      } else init.featMask.fill(1);
      // Rows of this tree.
      if (bagging && it % p.bagging_freq === 0) {
        inBag.fill(0);
        bagRng.sampleSorted(n, bagRows);
        const m = bagRows.length;
        for (let i = 0; i < m; i++) inBag[bagRows[i]] = 1;
        let o = 0;
        for (let i = 0; i < n; i++) if (!inBag[i]) oob[o++] = i;
      }
      let rowCount = n;
      if (bagging) {
        init.idx.set(bagRows);
        rowCount = bagRows.length;
      } else for (let i = 0; i < n; i++) init.idx[i] = i;
      let gScale = 0;
      if (packM) {
        // Quantize gradients to integers in [-packQ, packQ] and pack them with a unit count.
        const gh = init.gh;
        let maxAbs = 0;
        for (let i = 0; i < n; i++) maxAbs = Math.max(maxAbs, Math.abs(gh[2 * i]));
        gScale = maxAbs > 0 ? maxAbs / packQ : 1;
        const inv = 1 / gScale;
        const gp = init.gp;
        for (let i = 0; i < n; i++) gp[i] = Math.round(gh[2 * i] * inv) * packM + 1;
      }
      const tree = grower.grow(rowCount, !bagging, gScale, 1);
      // Leaf values (shrunk), refit to residual medians for l1-type losses.
      const values = tree.leafValue.map((v, l) => {
        if (!renewW || !resid || !residW) return v * p.learning_rate;
        const s = tree.leafStart[l];
        const c = tree.leafCount[l];
        for (let k = 0; k < c; k++) {
          const i = init.idx[s + k];
          resid[k] = y[i] - score[i];
          residW[k] = renewW[i];
        }
        return weightedMedian(resid, residW, c) * p.learning_rate;
      });
      for (let l = 0; l < values.length; l++) {
        const v = values[l];
        const s = tree.leafStart[l];
        const e = s + tree.leafCount[l];
        for (let k = s; k < e; k++) score[init.idx[k]] += v;
      }
      if (bagging && oob.length) {
        binTreeLeaves(tree, bins, n, missingBin, oob, leafOf);
        for (let k = 0; k < oob.length; k++) score[oob[k]] += values[leafOf[k]];
      }
      treeStats.push({ feature: tree.feature, gain: tree.gain });
      builder.addTree(toRawTree(tree, mappers, values));
      const metrics: Record<string, number> = {};
      if (scoreValid && vBins) {
        binTreeLeaves(tree, vBins, vn, missingBin, null, leafOf);
        for (let k = 0; k < vn; k++) {
          vScore[k] += values[leafOf[k]];
          vPred[k] = toLabel ? toLabel(obj.transform(vScore[k])) : obj.transform(vScore[k]);
        }
        const m = scoreValid(vPred);
        metrics[metricName] = m;
        if (bestScore === null || (metric.higherIsBetter ? m > bestScore : m < bestScore)) {
          bestScore = m;
          best = it;
        }
        if (p.verbose > 0 && (it + 1) % p.verbose === 0) ctx.log?.(`gbdt [${it + 1}] valid ${metricName}: ${m.toFixed(6)}`);
      }
      ctx.onIter?.(it + 1, metrics);
      if (stopping && it - best >= p.early_stopping_rounds) {
        ctx.log?.(`gbdt: early stopping at round ${it + 1}, best round ${best + 1} (${metricName} ${bestScore})`);
        break;
      }
    }
    if (p.verbose > 0) {
      const tm = grower.timing;
      ctx.log?.(`gbdt: ${threads} thread(s); split jobs ${tm.jobCount} took ${(tm.jobs / 1000).toFixed(2)} s over ${(tm.rows / n).toFixed(1)} passes of n rows, partition + gather ${(tm.partition / 1000).toFixed(2)} s`);
    }
  } finally {
    await pool.close();
  }
  const trees = stopping && best >= 0 ? best + 1 : treeStats.length;
  const gain = new Float64Array(F);
  const splits = new Float64Array(F);
  for (const t of treeStats.slice(0, trees)) {
    for (let k = 0; k < t.feature.length; k++) {
      gain[t.feature[k]] += t.gain[k];
      splits[t.feature[k]] += 1;
    }
  }
  return {
    forest: builder.build(trees),
    objective: objName,
    bestIteration: valid && best >= 0 ? best : trees - 1,
    validated: stopping,
    metric: valid ? metricName : null,
    bestScore,
    gain,
    splits,
  };
}
