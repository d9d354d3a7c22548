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
import type { FitContext, FittedModel, GateSummary, Task } from '../../models/model.ts';
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
  /** Gated learners: gate weights on the validation rows, pooled over the folds. */
  gates?: GateSummary;
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

/** One target of a learner's training: its labels, label-filter weights and pseudo-labelled rows. */
export interface TargetInput {
  /** Training labels (train rows; untransformed). */
  y: Float64Array;
  /** Per train row weight (0 drops a row from fitting; outlier filter). */
  weight?: Float64Array;
  /**
   * Pseudo-labelled test rows joining the training rows of every fold (never validation):
   * test row indices (0-based within test), and per fold their labels.
   */
  pseudo?: { rows: Int32Array; labels: Float64Array[]; weight: number };
  /** Target name for log lines (runs with several targets). */
  name?: string;
}

interface TrainOptions {
  entry: ModelEntry;
  table: Table;
  blocks: FeatureBlocks;
  foldCache: FoldFeatureCache;
  folds: Folds;
  task: Task;
  /** validation.metric: the learner's early-stopping metric unless its own params name one. */
  metric: MetricName;
  earlyStopping: EarlyStopping;
  /** Single-fold schemes: test predictions from a refit on all train rows. */
  refitAll?: boolean;
  /** Target transform (e.g. log): learners fit forward(y); predictions are mapped back by inverse. */
  target?: { forward: (v: number) => number; inverse: (v: number) => number };
  rng: Random;
  log: RunLog;
}

/** One learner, one target: see the file comment. */
export async function trainModel(opts: TrainOptions & TargetInput): Promise<ModelResult> {
  const { y, weight, pseudo, name, ...rest } = opts;
  return (await trainModels({ ...rest, targets: [{ y, weight, pseudo, name }] }))[0];
}

/**
 * One learner for several targets at once (its `fitJoint`: one model, one result per target),
 * or for one. Several targets need the same folds and inner split for all of them and no
 * label-aware block among the learner's features (those are fitted per target).
 */
export async function trainModels(opts: TrainOptions & { targets: TargetInput[] }): Promise<ModelResult[]> {
  const { entry, table, blocks, folds, targets, log } = opts;
  const def = models.get(entry.kind);
  const k = targets.length;
  const ids = entry.features ?? [...blocks.fixed.keys(), ...blocks.labelAware.map((b) => b.id)];
  const fixedBlocks = ids.filter((i) => blocks.fixed.has(i)).map((i) => blocks.fixed.get(i)!);
  const awareIds = ids.filter((i) => !blocks.fixed.has(i));
  if (k > 1 && (!def.fitJoint || awareIds.length)) throw new Error(`internal: model ${entry.id} cannot fit ${k} targets at once`);
  const nTrain = table.nTrain;
  const testRows = Int32Array.from({ length: table.nTest }, (_, i) => nTrain + i);
  const oof = targets.map(() => new Float64Array(nTrain).fill(NaN));
  const predicted = new Int32Array(nTrain);
  const test = targets.map(() => new Float64Array(table.nTest));
  const testFolds: Float64Array[][] = targets.map(() => []);
  const foldScores: Scores[][] = targets.map(() => []);
  const iterations: (number | null)[] = [];
  const importance: Record<string, number> = {};
  const gates: GateSummary[][] = targets.map(() => []);
  const t0 = Date.now();
  const fwd = opts.target?.forward ?? ((v: number) => v);
  const inv = opts.target?.inverse ?? ((v: number) => v);
  const validates = def.usesValidation?.(entry.params) ?? false;
  const inner = validates && opts.earlyStopping.mode === 'inner' ? opts.earlyStopping.stop : null;
  const earlyStopping = !validates ? 'none' : inner ? 'inner' : 'fold';
  const stage = (t: number) => `model ${entry.id}${targets[t].name ? ` [${targets[t].name}]` : ''}`;
  // Rows with zero weight for every target (filtered outliers) do not fit; they are still
  // validated (and stopped on). With several targets a row fits the targets that keep it.
  const kept = (r: number) => targets.some((t) => !t.weight || t.weight[r] > 0);
  const filtered = targets.some((t) => t.weight);
  const splits = Array.from({ length: folds.k }, (_, f) => {
    const { train: allTrain, valid } = foldRows(folds, f);
    const train = filtered ? allTrain.filter(kept) : allTrain;
    if (!inner) return { train, valid, fit: train, stopKept: new Int32Array(0), stopDropped: new Int32Array(0) };
    const isStop = new Uint8Array(nTrain);
    for (const r of inner[f]) isStop[r] = 1;
    return { train, valid, fit: train.filter((r) => !isStop[r]), stopKept: inner[f].filter(kept), stopDropped: inner[f].filter((r) => !kept(r)) };
  });
  const allRows = opts.refitAll ? Int32Array.from({ length: nTrain }, (_, r) => r).filter(kept) : null;
  // Pseudo rows are test rows (their features are the test features of the fold): the union of
  // the targets' rows, each target labelling its own (weight 0 on the others').
  const pseudoOf = targets.map((t) => (t.pseudo && t.pseudo.rows.length ? t.pseudo : undefined));
  const pseudoTest = k === 1 ? (pseudoOf[0]?.rows ?? new Int32Array(0)) : Int32Array.from(new Set(pseudoOf.flatMap((p) => (p ? [...p.rows] : [])))).sort();
  const pseudoAt = pseudoOf.map((p) => {
    if (!p) return null;
    const at = new Map<number, number>();
    p.rows.forEach((row, i) => at.set(row, i));
    return Int32Array.from(pseudoTest, (row) => at.get(row) ?? -1);
  });
  const nPseudo = pseudoTest.length;
  const pseudoRows = pseudoTest.map((i) => nTrain + i);
  // One training and one validation buffer serve every fit, sized for the largest: a new copy
  // per fold would sit next to the last one until V8 collects it (2 x 0.9 GB for the full-size mlp).
  const trainCap = Math.max(...splits.map((sp) => sp.fit.length + sp.stopKept.length + sp.stopDropped.length + nPseudo), (allRows?.length ?? 0) + nPseudo);
  const validCap = Math.max(...splits.map((sp) => sp.valid.length));
  let trainBuf: Float32Array | null = null;
  let validBuf: Float32Array | null = null;

  /** Everything one set of label-aware fits needs: row gathering, the learner's matrix, test predictions. */
  const withFits = (fits: FittedFeature[], fitRows: Int32Array) => {
    // Training rows read their own out-of-inner-fold values from fit.train, by position in fitRows.
    const position = new Int32Array(nTrain).fill(-1);
    fitRows.forEach((r, i) => (position[r] = i));
    const ownValues = (rows: Int32Array): RowSource[] => fits.map((fit) => ({ block: fit.train, rows: rows.map((r) => position[r]) }));
    const applied = (rows: Int32Array): RowSource[] => fits.map((fit) => ({ block: fit.apply(rows), rows: null }));
    const width = fixedBlocks.reduce((w, b) => w + b.cols, 0) + fits.reduce((w, fit) => w + fit.train.cols, 0);
    const names = [...fixedBlocks.flatMap((b) => b.names), ...awareIds.flatMap((id, i) => prefixed(id, fits[i].train).names)];
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
    /** Each model's test predictions on the label scale, in chunks: never a full test copy. */
    const predictTest = (fitted: FittedModel[]): Float64Array[] => {
      const out = fitted.map(() => new Float64Array(testRows.length));
      const step = Math.max(1024, Math.floor(PREDICT_CHUNK_VALUES / Math.max(1, width)));
      for (let s = 0; s < testRows.length; s += step) {
        const rows = testRows.subarray(s, Math.min(testRows.length, s + step));
        const X = assemble([{ rows, aware: applied(rows) }]);
        fitted.forEach((model, t) => out[t].set(model.predict(X), s));
      }
      return out.map((o) => o.map(inv));
    };
    return { ownValues, applied, width, assemble, predictTest };
  };

  /** Per target, labels (fitted scale) and weights of the learner's rows in buffer order; `pseudo`: the fold whose pseudo-labels a segment takes. */
  const labelsOf = (segments: { rows: Int32Array; pseudo?: number }[]) => {
    const n = segments.reduce((s, sg) => s + sg.rows.length, 0);
    return targets.map((tg, t) => {
      const yy = new Float64Array(n);
      const ww = k > 1 || tg.weight || pseudoOf[t] ? new Float64Array(n) : undefined;
      let at = 0;
      for (const sg of segments) {
        sg.rows.forEach((r, i) => {
          if (sg.pseudo === undefined) {
            yy[at + i] = fwd(tg.y[r]);
            if (ww) ww[at + i] = tg.weight ? tg.weight[r] : 1;
          } else {
            const j = pseudoAt[t] ? pseudoAt[t]![i] : -1; // -1: another target's pseudo row
            yy[at + i] = j >= 0 ? fwd(pseudoOf[t]!.labels[sg.pseudo][j]) : NaN;
            ww![at + i] = j >= 0 ? pseudoOf[t]!.weight : 0;
          }
        });
        at += sg.rows.length;
      }
      return { y: yy, w: ww };
    });
  };

  const ctxFor = (fold: number | 'all', extra: Partial<FitContext>): FitContext => ({
    seed: opts.rng.fork(fold === 'all' ? 'all' : `fold${fold}`).seed,
    task: opts.task,
    metric: opts.metric,
    toLabel: opts.target?.inverse,
    log: (m) => log.event(`model:${entry.id}`, { fold, message: m }),
    ...extra,
  });
  /** The learner on X for every target: its own fit for one, its joint fit for several. */
  const fitAll = async (X: Matrix, labs: { y: Float64Array; w?: Float64Array }[], ctx: FitContext, valid?: { X: Matrix; ys: Float64Array[] }): Promise<FittedModel[]> => {
    if (k === 1) return [await def.fit(X, labs[0].y, entry.params, { ...ctx, weight: labs[0].w, ...(valid ? { valid: { X: valid.X, y: valid.ys[0] } } : {}) })];
    const { weight: _, valid: __, ...joint } = ctx;
    return def.fitJoint!(X, labs.map((l) => l.y), entry.params, { ...joint, weights: labs.map((l) => l.w!), ...(valid ? { valid } : {}) });
  };

  let chosen: { count: number; rows: number } | undefined;
  for (let f = 0; f < folds.k; f++) {
    const { train, valid, fit, stopKept, stopDropped } = splits[f];
    const fits = awareIds.map((id) => opts.foldCache.get(id, f, train));
    const g = withFits(fits, train);
    trainBuf ??= new Float32Array(trainCap * g.width);
    validBuf ??= new Float32Array(validCap * g.width);
    const layout = [
      { rows: fit, aware: g.ownValues(fit) },
      ...(nPseudo ? [{ rows: pseudoRows, aware: g.applied(pseudoRows), pseudo: f }] : []),
      { rows: stopKept, aware: g.ownValues(stopKept) },
      { rows: stopDropped, aware: g.applied(stopDropped) },
    ];
    let Xtr: Matrix | null = g.assemble(layout, trainBuf);
    let Xva: Matrix | null = g.assemble([{ rows: valid, aware: g.applied(valid) }], validBuf);
    const labs = labelsOf(layout);
    const nFit = fit.length + nPseudo;
    const ctx = ctxFor(f, { onIter: iterationLog(log, entry.id, f, folds.k) });
    // inner: fitted on the fit (and pseudo) rows, stopped on the inner stop rows after them.
    // A refit on all the fold's rows with the rounds scaled measured no better on the real
    // video track's later posts and costs 1.4x the time: the inner model is kept.
    const fitted = inner
      ? await fitAll(rowRange(Xtr, 0, nFit), labs.map((l) => ({ y: l.y.subarray(0, nFit), w: l.w?.subarray(0, nFit) })), ctx, { X: rowRange(Xtr, nFit, Xtr.rows), ys: labs.map((l) => l.y.subarray(nFit)) })
      : await fitAll(Xtr, labs, ctx, { X: Xva, ys: targets.map((tg) => Float64Array.from(valid, (r) => fwd(tg.y[r]))) });
    const model = fitted[0];
    chosen = model.iterations === undefined ? undefined : { count: model.iterations, rows: inner ? nFit : Xtr.rows };
    iterations.push(chosen?.count ?? null);
    Xtr = null; // learners copy what they keep (model.ts): the buffer is the next fit's
    const pva = fitted.map((m) => m.predict(Xva!).map(inv));
    Xva = null;
    for (const r of valid) predicted[r]++;
    const pte = g.predictTest(fitted);
    if (!allRows) for (const [name, v] of Object.entries(model.importance())) importance[name] = (importance[name] ?? 0) + v / folds.k;
    const chose = chosen ? `, ${chosen.count} rounds chosen on ${inner ? 'inner' : 'fold'} rows` : '';
    targets.forEach((tg, t) => {
      valid.forEach((r, i) => (oof[t][r] = pva[t][i]));
      testFolds[t].push(pte[t]);
      for (let i = 0; i < pte[t].length; i++) test[t][i] += pte[t][i] / folds.k;
      const gate = fitted[t].gates?.();
      if (gate) gates[t].push(gate);
      const s = score(opts.task, Float64Array.from(valid, (r) => tg.y[r]), pva[t]);
      foldScores[t].push(s);
      log.info(stage(t), `fold ${f + 1}/${folds.k}: ${formatScores(s)}${chose}`, { model: entry.id, ...(tg.name ? { target: tg.name } : {}), fold: f, scores: s, iterations: chosen?.count });
    });
  }

  if (allRows) {
    // Single fold: the submission comes from all train rows (the newest posts included), with
    // the validated fit's rounds scaled to the row count.
    validBuf = null;
    const fits = awareIds.map((id) => opts.foldCache.get(id, 'all', allRows));
    const g = withFits(fits, allRows);
    const layout = [{ rows: allRows, aware: g.ownValues(allRows) }, ...(nPseudo ? [{ rows: pseudoRows, aware: g.applied(pseudoRows), pseudo: 0 }] : [])];
    const finalModels = await fitAll(g.assemble(layout, trainBuf!), labelsOf(layout), ctxFor('all', { iterations: chosen }));
    g.predictTest(finalModels).forEach((p, t) => test[t].set(p));
    Object.assign(importance, finalModels[0].importance());
    for (const t of targets.keys())
      log.info(stage(t), `refit on all ${allRows.length + nPseudo} train rows for the test predictions${chosen ? ` (${chosen.count} rounds on ${chosen.rows} rows, scaled)` : ''}`);
  }

  // Out-of-fold coverage: every validated row exactly once, never-validated rows never.
  for (let r = 0; r < nTrain; r++) {
    const expected = folds.fold[r] >= 0 ? 1 : 0;
    if (predicted[r] !== expected) throw new Error(`model ${entry.id}: train row ${r} (pid ${table.pid[r]}) got ${predicted[r]} out-of-fold predictions, expected ${expected}`);
  }
  const validated = validatedRows(folds);
  const seconds = (Date.now() - t0) / 1000;
  return targets.map((tg, t) => {
    const scores = score(opts.task, validated.map((r) => tg.y[r]), validated.map((r) => oof[t][r]));
    log.info(stage(t), `CV: ${formatScores(scores)} (${seconds.toFixed(1)}s${k > 1 ? `, one model for ${k} targets` : ''})`, { model: entry.id, ...(tg.name ? { target: tg.name } : {}), scores });
    return {
      id: entry.id,
      kind: entry.kind,
      oof: oof[t],
      test: test[t],
      testFolds: testFolds[t],
      folds: foldScores[t],
      scores,
      importance,
      earlyStopping,
      iterations,
      ...(gates[t].length ? { gates: poolGates(gates[t]) } : {}),
      seconds,
    };
  });
}

/** Folds' gate summaries as one: per segment value, the row-weighted mean over the folds. */
export function poolGates(list: readonly GateSummary[]): GateSummary {
  const rows = new Map<string, { n: number; sum: number[] }>();
  for (const s of list)
    for (const r of s.rows) {
      const acc = rows.get(r.segment) ?? { n: 0, sum: r.mean.map(() => 0) };
      acc.n += r.n;
      r.mean.forEach((m, e) => (acc.sum[e] += m * r.n));
      rows.set(r.segment, acc);
    }
  const keys = [...rows.keys()].filter((k) => k !== 'all').sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
  return {
    experts: list[0].experts,
    ...(list[0].segment ? { segment: list[0].segment } : {}),
    rows: ['all', ...keys].filter((k) => rows.has(k)).map((k) => ({ segment: k, n: rows.get(k)!.n, mean: rows.get(k)!.sum.map((v) => v / rows.get(k)!.n) })),
  };
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
