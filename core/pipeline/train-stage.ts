/**
 * @file Cross-validated training of one learner: per fold, label-aware blocks are fitted on the
 * fold's training rows, the learner is fitted (validation rows only for early stopping), and
 * validation rows get their out-of-fold prediction. Every validated row must be predicted
 * exactly once; test predictions are the mean of the fold models.
 */
import { createMatrix, gatherInto, type Matrix } from '../matrix.ts';
import type { Random } from '../random.ts';
import type { RunLog } from '../report/run-log.ts';
import type { Table } from '../data/table.ts';
import { foldRows, validatedRows, type Folds } from '../eval/folds.ts';
import { formatScores, score, type Scores } from '../eval/score.ts';
import { models } from '../../models/index.ts';
import type { FitContext, GateSummary, Task } from '../../models/model.ts';
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
  /** Mean of the fold models' test predictions. */
  test: Float64Array;
  /** Each fold model's test predictions. */
  testFolds: Float64Array[];
  folds: Scores[];
  scores: Scores;
  importance: Record<string, number>;
  /** Gated learners: gate weights on the validation rows, pooled over the folds. */
  gates?: GateSummary;
  seconds: number;
}

/** Label-aware blocks fitted once per fold, shared by every learner of the run. */
export class FoldFeatureCache {
  private readonly fitted = new Map<string, FittedFeature>();
  constructor(private readonly blocks: FeatureBlocks, private readonly y: Float64Array) {}

  get(id: string, fold: number, trainRows: Int32Array): FittedFeature {
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
  const importance: Record<string, number> = {};
  const gates: GateSummary[] = [];
  const t0 = Date.now();
  // Rows with zero weight (filtered outliers) do not fit; they are still validated.
  const splits = Array.from({ length: folds.k }, (_, f) => {
    const { train: allTrain, valid } = foldRows(folds, f);
    return { train: opts.weight ? allTrain.filter((r) => opts.weight![r] > 0) : allTrain, valid };
  });
  // One training and one validation buffer serve every fold, sized for the largest: a new copy
  // per fold would sit next to the last one until V8 collects it (2 x 0.9 GB for the full-size mlp).
  const nPseudo = opts.pseudo?.rows.length ?? 0;
  const trainCap = Math.max(...splits.map((sp) => sp.train.length + nPseudo));
  const validCap = Math.max(...splits.map((sp) => sp.valid.length));
  let trainBuf: Float32Array | null = null;
  let validBuf: Float32Array | null = null;

  for (let f = 0; f < folds.k; f++) {
    const { train, valid } = splits[f];
    const fits = awareIds.map((id) => opts.foldCache.get(id, f, train));
    const aware = (rows: Int32Array) => fits.map((fit) => fit.apply(rows));
    // The learner's rows in one float32 matrix: label-free blocks read by row index, label-aware
    // blocks from this fold's fit (training rows their own out-of-inner-fold values).
    const assemble = (segments: { rows: Int32Array; aware: Matrix[] }[], buf?: Float32Array): Matrix => {
      const first = segments[0].aware;
      const names = [...fixedBlocks.flatMap((b) => b.names), ...awareIds.flatMap((id, k) => prefixed(id, first[k]).names)];
      const categorical = [...fixedBlocks.flatMap((b) => b.categorical), ...first.flatMap((m) => m.categorical)];
      const rows = segments.reduce((n, sg) => n + sg.rows.length, 0);
      const X = createMatrix(rows, names.length, names, categorical, buf);
      let at = 0;
      for (const sg of segments) {
        gatherInto(X, at, sg.rows.length, [...fixedBlocks.map((block) => ({ block, rows: sg.rows })), ...sg.aware.map((block) => ({ block, rows: null }))]);
        at += sg.rows.length;
      }
      return X;
    };
    const pseudo = opts.pseudo && opts.pseudo.rows.length ? opts.pseudo : undefined;
    // Pseudo rows are test rows: their features are the test features of this fold.
    const pseudoRows = pseudo ? pseudo.rows.map((i) => nTrain + i) : new Int32Array(0);
    const width = fixedBlocks.reduce((w, b) => w + b.cols, 0) + fits.reduce((w, fit) => w + fit.train.cols, 0);
    trainBuf ??= new Float32Array(trainCap * width);
    validBuf ??= new Float32Array(validCap * width);
    let Xtr: Matrix | null = assemble(
      [{ rows: train, aware: fits.map((fit) => fit.train) }, ...(pseudo ? [{ rows: pseudoRows, aware: aware(pseudoRows) }] : [])],
      trainBuf,
    );
    let Xva: Matrix | null = assemble([{ rows: valid, aware: aware(valid) }], validBuf);
    // The learner fits the transformed target; predictions come back on the label scale.
    const fwd = opts.target?.forward ?? ((v: number) => v);
    const inv = opts.target?.inverse ?? ((v: number) => v);
    const ytr = new Float64Array(Xtr.rows);
    train.forEach((r, i) => (ytr[i] = fwd(y[r])));
    const yva = Float64Array.from(valid, (r) => y[r]);
    let wtr = opts.weight ? new Float64Array(Xtr.rows).fill(1) : undefined;
    if (wtr) train.forEach((r, i) => (wtr![i] = opts.weight![r]));
    if (pseudo) {
      pseudo.labels[f].forEach((v, i) => (ytr[train.length + i] = fwd(v)));
      wtr ??= new Float64Array(Xtr.rows).fill(1);
      wtr.fill(pseudo.weight, train.length);
    }
    const model = await def.fit(Xtr, ytr, entry.params, {
      seed: opts.rng.fork(`fold${f}`).seed,
      task: opts.task,
      valid: { X: Xva, y: yva.map(fwd) },
      weight: wtr,
      log: (m) => log.event(`model:${entry.id}`, { fold: f, message: m }),
      onIter: iterationLog(log, entry.id, f, folds.k),
    });
    Xtr = null; // learners copy what they keep (model.ts): the buffer is the next fold's
    const pva = model.predict(Xva).map(inv);
    Xva = null;
    valid.forEach((r, i) => {
      oof[r] = pva[i];
      predicted[r]++;
    });
    // Test rows in chunks: never a full test copy per fold.
    const pte = new Float64Array(testRows.length);
    const step = Math.max(1024, Math.floor(PREDICT_CHUNK_VALUES / Math.max(1, width)));
    for (let s = 0; s < testRows.length; s += step) {
      const rows = testRows.subarray(s, Math.min(testRows.length, s + step));
      pte.set(model.predict(assemble([{ rows, aware: aware(rows) }])), s);
    }
    for (let i = 0; i < pte.length; i++) pte[i] = inv(pte[i]);
    testFolds.push(pte);
    for (let i = 0; i < pte.length; i++) test[i] += pte[i] / folds.k;
    for (const [name, v] of Object.entries(model.importance())) importance[name] = (importance[name] ?? 0) + v / folds.k;
    const gate = model.gates?.();
    if (gate) gates.push(gate);
    const s = score(opts.task, yva, pva);
    foldScores.push(s);
    log.info(`model ${entry.id}`, `fold ${f + 1}/${folds.k}: ${formatScores(s)}`, { model: entry.id, fold: f, scores: s });
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
  return { id: entry.id, kind: entry.kind, oof, test, testFolds, folds: foldScores, scores, importance, ...(gates.length ? { gates: poolGates(gates) } : {}), seconds };
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
