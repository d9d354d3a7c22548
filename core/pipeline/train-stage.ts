/**
 * @file Cross-validated training of one learner: per fold, label-aware blocks are fitted on the
 * fold's training rows, the learner is fitted, and validation rows get their out-of-fold
 * prediction. Every validated row must be predicted exactly once.
 *
 * Early stopping (validation.early_stopping), on the run's metric on the label scale:
 * - `fold`: the learner stops on the fold's validation rows, so each OOF row helped choose the
 *   rounds that predict it and the CV is optimistic (the result says so);
 * - `inner`: the learner fits the fold's training rows less an inner split of them (cut like the
 *   outer scheme) and stops on that split; no OOF row chooses anything.
 * The learner's rows sit in one reused buffer laid out [fit rows, pseudo rows, stop rows, stop
 * rows the label filter drops (stopped on, never fitted)], so the inner split is two views of
 * it: no copy.
 *
 * Test predictions: the mean of the fold models; with a single fold (time, holdout schemes), a
 * refit on all train rows with the validated fit's rounds scaled to the row count, so the
 * newest posts feed the submission (testFolds keeps the fold model's, which never saw the
 * validated rows, for pseudo-labels).
 */
import { createMatrix, gatherInto, rowRange, type Matrix, type RowSource } from '../matrix.ts';
import type { Random } from '../random.ts';
import type { RunLog } from '../report/run-log.ts';
import type { Table } from '../data/table.ts';
import { foldRows, validatedRows, type Folds } from '../eval/folds.ts';
import type { MetricName } from '../eval/metrics.ts';
import { formatScores, score, type Scores } from '../eval/score.ts';
import { models } from '../../models/index.ts';
import type { FitContext, FittedModel, Task } from '../../models/model.ts';
import type { FittedFeature } from '../../features/feature.ts';
import { prefixed, type FeatureBlocks } from './feature-stage.ts';
import type { ModelEntry } from './schema.ts';

/** Values per chunk of test rows gathered for prediction (64 MB of float32). */
const PREDICT_CHUNK_VALUES = 1 << 24;

export interface ModelResult {
  id: string;
  kind: string;
  /** One prediction per train row; NaN for rows never validated (time scheme). */
  oof: Float64Array;
  /** Test predictions: the mean of the fold models, or the all-rows refit (single fold). */
  test: Float64Array;
  /** Each fold model's test predictions. */
  testFolds: Float64Array[];
  folds: Scores[];
  scores: Scores;
  importance: Record<string, number>;
  /**
   * Who chose the learner's rounds / epochs: `fold` (the validation rows themselves: optimistic
   * CV), `inner` (an inner split of each fold's training rows), `none` (nothing early-stops).
   */
  earlyStopping: 'fold' | 'inner' | 'none';
  /** Per fold, the rounds / epochs early stopping chose (null when nothing chose). */
  iterations: (number | null)[];
  seconds: number;
}

/** Label-aware blocks fitted once per fold (and once on all train rows), shared by every learner of the run. */
export class FoldFeatureCache {
  private readonly fitted = new Map<string, FittedFeature>();
  constructor(private readonly blocks: FeatureBlocks, private readonly y: Float64Array) {}

  get(id: string, fold: number | 'all', trainRows: Int32Array): FittedFeature {
    const key = `${id}#${fold}`;
    let f = this.fitted.get(key);
    if (!f) {
      const b = this.blocks.labelAware.find((x) => x.id === id)!;
      f = b.def.fit(b.ctx, b.params, trainRows, this.y);
      this.fitted.set(key, f);
    }
    return f;
  }
}

/** validation.early_stopping as the runner passes it: inner carries, per fold, the train rows to stop on. */
export type EarlyStopping = { mode: 'fold' } | { mode: 'inner'; stop: Int32Array[] };

export async function trainModel(opts: {
  entry: ModelEntry;
  table: Table;
  blocks: FeatureBlocks;
  foldCache: FoldFeatureCache;
  folds: Folds;
  task: Task;
  /** Training labels (train rows; may be transformed/filtered). */
  y: Float64Array;
  /** Per train row weight (0 drops a row from fitting; outlier filter). */
  weight?: Float64Array;
  /** validation.metric: the learner's early-stopping metric unless its own params name one. */
  metric: MetricName;
  earlyStopping: EarlyStopping;
  /** Single-fold schemes: test predictions from a refit on all train rows. */
  refitAll?: boolean;
  /**
   * Pseudo-labelled test rows joining the training rows of every fold (never validation):
   * test row indices (0-based within test), and per fold their labels.
   */
  pseudo?: { rows: Int32Array; labels: Float64Array[]; weight: number };
  /** Target transform (e.g. log): learners fit forward(y); predictions are mapped back by inverse. */
  target?: { forward: (v: number) => number; inverse: (v: number) => number };
  rng: Random;
  log: RunLog;
}): Promise<ModelResult> {
  const { entry, table, blocks, folds, y, log } = opts;
  const def = models.get(entry.kind);
  const ids = entry.features ?? [...blocks.fixed.keys(), ...blocks.labelAware.map((b) => b.id)];
  const fixedBlocks = ids.filter((i) => blocks.fixed.has(i)).map((i) => blocks.fixed.get(i)!);
  const awareIds = ids.filter((i) => !blocks.fixed.has(i));
  const nTrain = table.nTrain;
  const testRows = Int32Array.from({ length: table.nTest }, (_, i) => nTrain + i);
  const oof = new Float64Array(nTrain).fill(NaN);
  const predicted = new Int32Array(nTrain);
  const test = new Float64Array(table.nTest);
  const testFolds: Float64Array[] = [];
  const foldScores: Scores[] = [];
  const iterations: (number | null)[] = [];
  const importance: Record<string, number> = {};
  const t0 = Date.now();
  const fwd = opts.target?.forward ?? ((v: number) => v);
  const inv = opts.target?.inverse ?? ((v: number) => v);
  const validates = def.usesValidation?.(entry.params) ?? false;
  const inner = validates && opts.earlyStopping.mode === 'inner' ? opts.earlyStopping.stop : null;
  const earlyStopping = !validates ? 'none' : inner ? 'inner' : 'fold';
  // Rows with zero weight (filtered outliers) do not fit; they are still validated (and stopped on).
  const kept = (r: number) => !opts.weight || opts.weight[r] > 0;
  const splits = Array.from({ length: folds.k }, (_, f) => {
    const { train: allTrain, valid } = foldRows(folds, f);
    const train = opts.weight ? allTrain.filter(kept) : allTrain;
    if (!inner) return { train, valid, fit: train, stopKept: new Int32Array(0), stopDropped: new Int32Array(0) };
    const isStop = new Uint8Array(nTrain);
    for (const r of inner[f]) isStop[r] = 1;
    return { train, valid, fit: train.filter((r) => !isStop[r]), stopKept: inner[f].filter(kept), stopDropped: inner[f].filter((r) => !kept(r)) };
  });
  const allRows = opts.refitAll ? Int32Array.from({ length: nTrain }, (_, r) => r).filter(kept) : null;
  // One training and one validation buffer serve every fit, sized for the largest: a new copy
  // per fold would sit next to the last one until V8 collects it (2 x 0.9 GB for the full-size mlp).
  const nPseudo = opts.pseudo?.rows.length ?? 0;
  const trainCap = Math.max(...splits.map((sp) => sp.fit.length + sp.stopKept.length + sp.stopDropped.length + nPseudo), (allRows?.length ?? 0) + nPseudo);
  const validCap = Math.max(...splits.map((sp) => sp.valid.length));
  let trainBuf: Float32Array | null = null;
  let validBuf: Float32Array | null = null;
  const pseudo = opts.pseudo && opts.pseudo.rows.length ? opts.pseudo : undefined;
  // Pseudo rows are test rows: their features are the test features of the fold.
  const pseudoRows = pseudo ? pseudo.rows.map((i) => nTrain + i) : new Int32Array(0);

  /** Everything one set of label-aware fits needs: row gathering, the learner's matrix, test predictions. */
  const withFits = (fits: FittedFeature[], fitRows: Int32Array) => {
    // Training rows read their own out-of-inner-fold values from fit.train, by position in fitRows.
    const position = new Int32Array(nTrain).fill(-1);
    fitRows.forEach((r, i) => (position[r] = i));
    const ownValues = (rows: Int32Array): RowSource[] => fits.map((fit) => ({ block: fit.train, rows: rows.map((r) => position[r]) }));
    const applied = (rows: Int32Array): RowSource[] => fits.map((fit) => ({ block: fit.apply(rows), rows: null }));
    const width = fixedBlocks.reduce((w, b) => w + b.cols, 0) + fits.reduce((w, fit) => w + fit.train.cols, 0);
    const names = [...fixedBlocks.flatMap((b) => b.names), ...awareIds.flatMap((id, k) => prefixed(id, fits[k].train).names)];
    const categorical = [...fixedBlocks.flatMap((b) => b.categorical), ...fits.flatMap((fit) => fit.train.categorical)];
    // The learner's rows in one float32 matrix: label-free blocks read by row index, label-aware blocks as given.
    const assemble = (segments: { rows: Int32Array; aware: RowSource[] }[], buf?: Float32Array): Matrix => {
      const X = createMatrix(segments.reduce((n, sg) => n + sg.rows.length, 0), width, names, categorical, buf);
      let at = 0;
      for (const sg of segments) {
        gatherInto(X, at, sg.rows.length, [...fixedBlocks.map((block) => ({ block, rows: sg.rows })), ...sg.aware]);
        at += sg.rows.length;
      }
      return X;
    };
    /** Test predictions on the label scale, in chunks: never a full test copy. */
    const predictTest = (model: FittedModel): Float64Array => {
      const out = new Float64Array(testRows.length);
      const step = Math.max(1024, Math.floor(PREDICT_CHUNK_VALUES / Math.max(1, width)));
      for (let s = 0; s < testRows.length; s += step) {
        const rows = testRows.subarray(s, Math.min(testRows.length, s + step));
        out.set(model.predict(assemble([{ rows, aware: applied(rows) }])), s);
      }
      return out.map(inv);
    };
    return { ownValues, applied, width, assemble, predictTest };
  };

  /** Labels (fitted scale) and weights of the learner's rows in buffer order. */
  const labelsOf = (segments: { rows: Int32Array; pseudoLabels?: Float64Array }[]) => {
    const n = segments.reduce((s, sg) => s + sg.rows.length, 0);
    const yy = new Float64Array(n);
    const ww = opts.weight || pseudo ? new Float64Array(n) : undefined;
    let at = 0;
    for (const sg of segments) {
      sg.rows.forEach((r, i) => {
        yy[at + i] = fwd(sg.pseudoLabels ? sg.pseudoLabels[i] : y[r]);
        if (ww) ww[at + i] = sg.pseudoLabels ? pseudo!.weight : opts.weight ? opts.weight[r] : 1;
      });
      at += sg.rows.length;
    }
    return { y: yy, w: ww };
  };

  const ctxFor = (fold: number | 'all', extra: Partial<FitContext>): FitContext => ({
    seed: opts.rng.fork(fold === 'all' ? 'all' : `fold${fold}`).seed,
    task: opts.task,
    metric: opts.metric,
    toLabel: opts.target?.inverse,
    log: (m) => log.event(`model:${entry.id}`, { fold, message: m }),
    ...extra,
  });

  let chosen: { count: number; rows: number } | undefined;
  let finalModel: FittedModel | null = null;
  for (let f = 0; f < folds.k; f++) {
    const { train, valid, fit, stopKept, stopDropped } = splits[f];
    const fits = awareIds.map((id) => opts.foldCache.get(id, f, train));
    const g = withFits(fits, train);
    trainBuf ??= new Float32Array(trainCap * g.width);
    validBuf ??= new Float32Array(validCap * g.width);
    const layout = [
      { rows: fit, aware: g.ownValues(fit) },
      ...(pseudo ? [{ rows: pseudoRows, aware: g.applied(pseudoRows), pseudoLabels: pseudo.labels[f] }] : []),
      { rows: stopKept, aware: g.ownValues(stopKept) },
      { rows: stopDropped, aware: g.applied(stopDropped) },
    ];
    let Xtr: Matrix | null = g.assemble(layout, trainBuf);
    let Xva: Matrix | null = g.assemble([{ rows: valid, aware: g.applied(valid) }], validBuf);
    const lab = labelsOf(layout);
    const nFit = fit.length + nPseudo;
    const onIter = iterationLog(log, entry.id, f, folds.k);
    // inner: fitted on the fit (and pseudo) rows, stopped on the inner stop rows after them.
    // A refit on all the fold's rows with the rounds scaled measured no better on the real
    // video track's later posts and costs 1.4x the time: the inner model is kept.
    const model = inner
      ? await def.fit(rowRange(Xtr, 0, nFit), lab.y.subarray(0, nFit), entry.params, ctxFor(f, { weight: lab.w?.subarray(0, nFit), valid: { X: rowRange(Xtr, nFit, Xtr.rows), y: lab.y.subarray(nFit) }, onIter }))
      : await def.fit(Xtr, lab.y, entry.params, ctxFor(f, { weight: lab.w, valid: { X: Xva, y: Float64Array.from(valid, (r) => fwd(y[r])) }, onIter }));
    chosen = model.iterations === undefined ? undefined : { count: model.iterations, rows: inner ? nFit : Xtr.rows };
    iterations.push(chosen?.count ?? null);
    Xtr = null; // learners copy what they keep (model.ts): the buffer is the next fit's
    const pva = model.predict(Xva).map(inv);
    Xva = null;
    valid.forEach((r, i) => {
      oof[r] = pva[i];
      predicted[r]++;
    });
    const pte = g.predictTest(model);
    testFolds.push(pte);
    for (let i = 0; i < pte.length; i++) test[i] += pte[i] / folds.k;
    if (!allRows) for (const [name, v] of Object.entries(model.importance())) importance[name] = (importance[name] ?? 0) + v / folds.k;
    const s = score(opts.task, Float64Array.from(valid, (r) => y[r]), pva);
    foldScores.push(s);
    const chose = chosen ? `, ${chosen.count} rounds chosen on ${inner ? 'inner' : 'fold'} rows` : '';
    log.info(`model ${entry.id}`, `fold ${f + 1}/${folds.k}: ${formatScores(s)}${chose}`, { model: entry.id, fold: f, scores: s, iterations: chosen?.count });
  }

  if (allRows) {
    // Single fold: the submission comes from all train rows (the newest posts included), with
    // the validated fit's rounds scaled to the row count.
    validBuf = null;
    const fits = awareIds.map((id) => opts.foldCache.get(id, 'all', allRows));
    const g = withFits(fits, allRows);
    const layout = [{ rows: allRows, aware: g.ownValues(allRows) }, ...(pseudo ? [{ rows: pseudoRows, aware: g.applied(pseudoRows), pseudoLabels: pseudo.labels[0] }] : [])];
    const lab = labelsOf(layout);
    finalModel = await def.fit(g.assemble(layout, trainBuf!), lab.y, entry.params, ctxFor('all', { weight: lab.w, iterations: chosen }));
    test.set(g.predictTest(finalModel));
    Object.assign(importance, finalModel.importance());
    log.info(`model ${entry.id}`, `refit on all ${allRows.length + nPseudo} train rows for the test predictions${chosen ? ` (${chosen.count} rounds on ${chosen.rows} rows, scaled)` : ''}`);
  }

  // Out-of-fold coverage: every validated row exactly once, never-validated rows never.
  for (let r = 0; r < nTrain; r++) {
    const expected = folds.fold[r] >= 0 ? 1 : 0;
    if (predicted[r] !== expected) throw new Error(`model ${entry.id}: train row ${r} (pid ${table.pid[r]}) got ${predicted[r]} out-of-fold predictions, expected ${expected}`);
  }
  const validated = validatedRows(folds);
  const scores = score(opts.task, validated.map((r) => y[r]), validated.map((r) => oof[r]));
  const seconds = (Date.now() - t0) / 1000;
  log.info(`model ${entry.id}`, `CV: ${formatScores(scores)} (${seconds.toFixed(1)}s)`, { model: entry.id, scores });
  return { id: entry.id, kind: entry.kind, oof, test, testFolds, folds: foldScores, scores, importance, earlyStopping, iterations, seconds };
}

/** Terminal lines at most every 30 s while a fold trains (a full-size fold takes minutes); every iteration goes to log.jsonl. */
function iterationLog(log: RunLog, id: string, fold: number, k: number): NonNullable<FitContext['onIter']> {
  const t0 = Date.now();
  let shown = t0;
  return (iter, metrics) => {
    const seconds = (Date.now() - t0) / 1000;
    log.event(`model:${id}`, { fold, iter, seconds: Number(seconds.toFixed(3)), ...metrics });
    if (Date.now() - shown < 30_000) return;
    shown = Date.now();
    const m = Object.entries(metrics).map(([name, v]) => `${name} ${Number(v.toPrecision(4))}`).join(', ');
    log.info(`model ${id}`, `fold ${fold + 1}/${k}: iteration ${iter}${m ? `, ${m}` : ''} (${seconds.toFixed(0)}s, ${(seconds / iter).toFixed(2)}s per iteration)`);
  };
}
