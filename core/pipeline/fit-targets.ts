/**
 * @file The learning half of a run, on the label-free blocks: per target its folds, inner split,
 * label filter and label-aware blocks; then round by round (pseudo-labels) every learner, the
 * ensemble and the post-processing; then the round choice and the final CV.
 *
 * Several targets run round by round together, each with its own labels and the same seeds, so
 * each target gets what a one-target run of its column would, except for learners that fit all
 * targets at once (`joint`, the mlp: one network with a head per target). Those see every
 * target's labels in one model; they need the same folds and inner split for every target and
 * no label-aware block among their features, else they fit one model per target and the log
 * says why.
 */
import { UserError } from '../errors.ts';
import type { Random } from '../random.ts';
import type { RunLog } from '../report/run-log.ts';
import type { Table } from '../data/table.ts';
import { foldRows, innerSplit, makeFolds, validatedRows, type FoldSpec, type Folds } from '../eval/folds.ts';
import { quantileSorted } from '../eval/quantile.ts';
import { formatScores, score } from '../eval/score.ts';
import type { MetricName } from '../eval/metrics.ts';
import { hconcat } from '../matrix.ts';
import { models } from '../../models/index.ts';
import type { FeatureBlocks } from './feature-stage.ts';
import { FoldFeatureCache, trainModels, type EarlyStopping, type ModelResult, type TargetInput } from './train-stage.ts';
import { ensemble, evaluationFolds, type EnsembleResult, type Level } from './ensemble-stage.ts';
import { describePostprocess, nestedPostprocess, type NestedPostprocess } from './postprocess.ts';
import { chooseRound, pseudoLabels } from './pseudo-labels.ts';
import type { PathKey } from './load.ts';
import type { ModelEntry, Pipeline } from './schema.ts';

interface Round {
  round: number;
  results: ModelResult[];
  ens: EnsembleResult;
  post: NestedPostprocess;
}

const TARGETS = {
  none: undefined,
  log: { forward: Math.log, inverse: Math.exp },
  log1p: { forward: Math.log1p, inverse: Math.expm1 },
} as const;

/** Training weights from the label outlier filter (0 = not fitted on), or undefined. */
function labelWeights(y: Float64Array, cfg: Pipeline['labels'], log: RunLog, tag: string): Float64Array | undefined {
  if (cfg.outliers === 'keep') return undefined;
  const sorted = Float64Array.from(y).sort();
  const [q1, q3] = [quantileSorted(sorted, 0.25), quantileSorted(sorted, 0.75)];
  const lo = q1 - cfg.iqr_k * (q3 - q1);
  const hi = q3 + cfg.iqr_k * (q3 - q1);
  const w = y.map((v) => (v >= lo && v <= hi ? 1 : 0));
  const dropped = w.length - w.reduce((s, v) => s + v, 0);
  log.info(`labels${tag}`, `IQR filter keeps labels in [${lo.toFixed(3)}, ${hi.toFixed(3)}]: ${dropped} of ${y.length} train rows not fitted on`);
  log.count('label_outliers', dropped);
  return w;
}

/** The plain mean of the learners' fold-model test predictions (no fitted weights), as a one-fold Level. */
function foldModelMean(results: ModelResult[]): Level {
  const test = new Float64Array(results[0].test.length);
  for (const m of results) for (const t of m.testFolds) for (let i = 0; i < t.length; i++) test[i] += t[i] / (results.length * m.testFolds.length);
  return { id: 'fold-models', oof: new Float64Array(0), testFolds: [test], test, scores: {} };
}

/**
 * How the CV was validated, for metrics.json, run.json and the terminal: `optimistic` when some
 * learner's rounds were chosen on the very rows it is scored on (validation.early_stopping: fold).
 */
function validationInfo(v: Pipeline['validation'], results: ModelResult[]) {
  const onFold = results.filter((m) => m.earlyStopping === 'fold').map((m) => m.id);
  return {
    scheme: v.scheme,
    early_stopping: v.early_stopping,
    optimistic: onFold.length > 0,
    stopped_on_validation_rows: onFold,
    note: onFold.length
      ? `optimistic CV: ${onFold.join(', ')} chose their rounds on each fold's validation rows (validation.early_stopping: fold); inner keeps them out`
      : v.early_stopping === 'inner'
        ? "early stopping on an inner split of each fold's training rows; no out-of-fold row chose its own model"
        : 'no learner early-stops',
  };
}

interface Context {
  pipeline: Pipeline;
  table: Table;
  blocks: FeatureBlocks;
  metric: MetricName;
  rng: Random;
  log: RunLog;
  locate: (p: readonly PathKey[]) => string;
}

/** One target's validation set-up: folds, inner split, label filter, label-aware block fits, meta folds. */
function setUpTarget(c: Context, name: string | null, y: Float64Array) {
  const { pipeline, table, blocks, rng, log, locate } = c;
  const tag = name === null ? '' : ` [${name}]`;
  const v = pipeline.validation;
  const groups = v.group === 'uid' ? table.uid.slice(0, table.nTrain) : (table.columns[v.group] as { values: (string | null)[] }).values.slice(0, table.nTrain).map((g) => (g === null ? null : String(g)));
  const foldSpec: FoldSpec = {
    scheme: v.scheme,
    folds: v.folds,
    shuffle: v.shuffle,
    groups,
    times: postdateOf(table).subarray(0, table.nTrain),
    validFraction: v.valid_fraction,
    strata: pipeline.task === 'binary' && v.stratify ? y : undefined,
  };
  const folds = makeFolds(table.nTrain, foldSpec, rng.fork('folds'));
  const strat = pipeline.task === 'binary' && v.stratify && v.scheme !== 'time' && v.scheme !== 'group-kfold' ? ', stratified by class' : '';
  const pct = (v.valid_fraction * 100).toFixed(0);
  log.info(
    `validation${tag}`,
    (v.scheme === 'time' ? `time-ordered holdout: newest ${pct}% of train` : v.scheme === 'holdout' ? `holdout: random ${pct}% of train validated${strat}` : `${v.scheme}, ${folds.k} folds${strat}`) +
      (v.early_stopping === 'inner'
        ? `; early stopping on ${(v.inner_fraction * 100).toFixed(0)}% of each fold's training rows${v.scheme === 'time' ? ' (the newest)' : v.scheme === 'group-kfold' ? ' (whole groups)' : ''}`
        : "; early stopping on each fold's validation rows (optimistic CV)") +
      (folds.k === 1 ? '; test predictions from a refit on all train rows' : ''),
  );
  // The same inner split for every learner and round, cut the way the scheme cuts.
  const innerRng = rng.fork('inner-split');
  const earlyStopping: EarlyStopping =
    v.early_stopping === 'inner'
      ? { mode: 'inner', stop: Array.from({ length: folds.k }, (_, f) => innerSplit(foldRows(folds, f).train, foldSpec, v.inner_fraction, innerRng.fork(`fold${f}`)).stop) }
      : { mode: 'fold' };
  const usesLog = pipeline.labels.transform === 'log' || pipeline.models.some((m) => m.transform === 'log');
  if (usesLog && y.some((v) => !(v > 0)))
    throw new UserError(`${locate(['labels', 'transform'])} labels.transform: log needs positive labels${tag}; use log1p (labels >= 0) or none`);
  return {
    name,
    tag,
    y,
    folds,
    earlyStopping,
    weight: labelWeights(y, pipeline.labels, log, tag),
    foldCache: new FoldFeatureCache(blocks, y),
    // Combiners, post-processing and the round choice are all cross-validated on these folds.
    metaFolds: evaluationFolds(folds, rng.fork('meta-folds')),
    rounds: [] as Round[],
    pseudo: undefined as TargetInput['pseudo'],
  };
}

type TargetState = ReturnType<typeof setUpTarget>;

function postdateOf(table: Table): Float64Array {
  const dateCol = table.columns.postdate;
  return dateCol?.type === 'number' ? dateCol.values : new Float64Array(table.n).fill(NaN);
}

function sameFolds(a: Folds, b: Folds): boolean {
  return a.k === b.k && a.fold.every((f, r) => f === b.fold[r]);
}

function sameStops(a: EarlyStopping, b: EarlyStopping): boolean {
  if (a.mode !== b.mode) return false;
  if (a.mode === 'fold' || b.mode === 'fold') return true;
  return a.stop.every((s, f) => s.length === b.stop[f].length && s.every((r, i) => r === b.stop[f][i]));
}

/**
 * How a learner meets the targets: all at once when it fits jointly and can (see the file
 * comment), else one at a time; `why` says why a joint learner could not.
 */
function targetGroups(entry: ModelEntry, states: TargetState[], blocks: FeatureBlocks): { groups: TargetState[][]; why?: string } {
  const def = models.get(entry.kind);
  const one = { groups: states.map((s) => [s]) };
  if (states.length < 2 || !def.fitJoint || !def.joint?.(entry.params)) return one;
  const aware = (entry.features ?? blocks.labelAware.map((b) => b.id)).filter((id) => blocks.labelAware.some((b) => b.id === id));
  if (aware.length) return { ...one, why: `it reads label-aware blocks (${aware.join(', ')}), fitted per target` };
  if (!states.every((s) => sameFolds(s.folds, states[0].folds) && sameStops(s.earlyStopping, states[0].earlyStopping)))
    return { ...one, why: 'the targets have different folds (stratified by each target)' };
  return { groups: [states] };
}

/** Every target's fit; see the file comment. `names`: the label columns, or [null] for one target. */
export async function fitTargets(c: Context & { names: (string | null)[]; ys: Float64Array[]; modelIds: string[][] }) {
  const { pipeline, table, blocks, rng, log, metric, names, modelIds } = c;
  const states = names.map((name, t) => setUpTarget(c, name, c.ys[t]));
  const rawIds = pipeline.ensemble.stacker.raw_features;
  const raw = rawIds.length ? hconcat(rawIds.map((i) => blocks.fixed.get(i)!)) : null;
  const postdate = postdateOf(table);
  const plans = pipeline.models.map((entry) => targetGroups(entry, states, blocks));
  pipeline.models.forEach((entry, m) => {
    const { groups, why } = plans[m];
    if (groups.length === 1 && states.length > 1) log.info(`model ${entry.id}`, `one model for the ${states.length} targets (a head per target)`);
    else if (why) log.info(`model ${entry.id}`, `one model per target: ${why}`);
  });

  // Round 0 trains on real rows; each pseudo-label round adds test rows labelled, fold by fold,
  // by that fold's ensemble of the previous round (so no validation label reaches them).
  const lastRound = pipeline.pseudo_labels.rounds;
  for (let round = 0; round <= lastRound; round++) {
    for (const s of states) if (round > 0) log.info(`pseudo-labels${s.tag}`, `round ${round}: ${s.pseudo!.rows.length} test rows, weight ${pipeline.pseudo_labels.weight}`);
    const results = new Map<TargetState, ModelResult[]>(states.map((s) => [s, []]));
    for (const [m, entry] of pipeline.models.entries()) {
      for (const group of plans[m].groups) {
        const out = await trainModels({
          entry,
          table,
          blocks,
          foldCache: group[0].foldCache,
          folds: group[0].folds,
          task: pipeline.task,
          metric,
          earlyStopping: group[0].earlyStopping,
          refitAll: group[0].folds.k === 1,
          rng: rng.fork(`model:${entry.id}`),
          log,
          targets: group.map((s) => ({ y: s.y, weight: s.weight, pseudo: s.pseudo, ...(s.name === null ? {} : { name: s.name }) })),
          target: TARGETS[entry.transform ?? pipeline.labels.transform],
        });
        group.forEach((s, i) => results.get(s)!.push(out[i]));
      }
      // In the last round, a block goes after the last learner that reads it.
      if (round === lastRound) {
        for (const id of modelIds[m]) {
          if (!rawIds.includes(id) && !modelIds.slice(m + 1).some((ids) => ids.includes(id)) && blocks.fixed.delete(id)) log.event('features', { freed: id });
        }
      }
    }
    for (const s of states) {
      const res = results.get(s)!;
      const ens = await ensemble(res, pipeline.ensemble, { y: s.y, folds: s.folds, metaFolds: s.metaFolds, raw, nTrain: table.nTrain, metric, task: pipeline.task, rng: rng.fork(`ensemble:${round}`), log });
      const post = nestedPostprocess(pipeline.postprocess, ens.final, s.y, postdate, s.metaFolds, metric);
      log.info(`ensemble${s.tag}`, `round ${round}: ${formatScores(ens.final.scores)}`, { round, scores: ens.final.scores, ...(s.name === null ? {} : { target: s.name }) });
      s.rounds.push({ round, results: res, ens, post });
      // With a single fold the combiners were fitted on the validated rows and the test predictions
      // come from refits that saw them: the next round's labels are the plain mean of the fold
      // models, which saw neither (fraction is 1 there: see prepare).
      s.pseudo = pseudoLabels(s.folds.k > 1 ? ens.final : foldModelMean(res), pipeline.pseudo_labels);
    }
  }
  return states.map((s) => finishTarget(c, s));
}

/** The round to keep (validation rows never change across rounds, so they compare fold by fold) and the final CV. */
function finishTarget(c: Context, s: TargetState) {
  const { pipeline, log, metric } = c;
  const { y, folds, rounds, metaFolds, tag } = s;
  const choice = chooseRound(rounds.map((r) => r.post.oof), y, metaFolds, metric);
  const chosen = rounds[choice.chosen];
  for (const r of choice.rounds.slice(1)) {
    const { mean, se } = r.gain!;
    log.info(`pseudo-labels${tag}`, `round ${r.round} vs round 0: ${metric.toUpperCase()} gain per fold mean ${mean.toPrecision(3)}, standard error ${se.toPrecision(3)} (${metaFolds.k} folds, positive = better): ${r.verdict}`, { round: r.round, gain: r.gain, folds: r.folds, kept: r.kept });
  }
  if (rounds.length > 1) log.info(`pseudo-labels${tag}`, `keeping round ${chosen.round}`);
  const { results, ens, post } = chosen;
  const validated = validatedRows(folds);
  const finalScores = score(pipeline.task, validated.map((r) => y[r]), validated.map((r) => post.oof[r]));
  log.info(`postprocess${tag}`, describePostprocess(pipeline.postprocess, post.fitted), { postprocess: post.fitted, folds: post.folds });
  const validation = validationInfo(pipeline.validation, results);
  log.info(`final${tag}`, `CV: ${formatScores(finalScores)}${validation.optimistic ? ' (optimistic: early stopping saw the validation rows)' : ''}`, { postprocess: post.fitted, validation });
  return { y, folds, validated, rounds, choice, results, ens, post, finalScores, validation };
}

export type TargetFit = ReturnType<typeof finishTarget>;
