/**
 * @file Runs a pipeline end to end: dataset -> feature blocks -> folds -> learners (OOF + test)
 * -> ensemble -> post-processing -> submission -> zip, writing the run folder
 * `runs/<pipeline>/<timestamp>/` (run.json, metrics.json, per-model oof/test/importance CSVs,
 * log.jsonl) and `submissions/<pipeline>-<timestamp>.zip`.
 *
 * Several targets (table track, `data.label: [a, b]`): the label-free blocks are computed once;
 * folds, label-aware blocks, learners, ensemble, post-processing and pseudo-label rounds run per
 * target with that target's labels and the same seeds, except that a joint learner (the mlp)
 * fits one model for all targets (see fit-targets.ts). Files carry the target: `<model>.<target>.oof.csv`,
 * `final.<target>.test.csv`; metrics.json is `{ "targets": { <target>: <one target's metrics> } }`;
 * the submission has one column per target.
 *
 * @example
 *   const result = await runPipeline('pipelines/demo.yaml', { seed: 7 });
 *   console.log(result.metrics.final.src, result.zipPath);
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { Random } from '../random.ts';
import { RunLog } from '../report/run-log.ts';
import { writeReport } from '../report/write-report.ts';
import { readRunFolder, readRunTarget } from '../report/run-folder.ts';
import { formatRunSummary } from '../report/summary.ts';
import { models } from '../../models/index.ts';
import { BlockCache, fingerprintFiles, hashOf, resolveCacheDir } from '../cache/block-cache.ts';
import { writeFileAtomic } from '../cache/atomic.ts';
import { readDataset } from '../data/read-dataset.ts';
import { withColumns, type Table } from '../data/table.ts';
import { score, type Scores } from '../eval/score.ts';
import type { MetricName } from '../eval/metrics.ts';
import type { GateSummary } from '../../models/model.ts';
import { renderSubmission, submissionFileName } from '../submit/write.ts';
import { validateSubmissionText } from '../submit/validate.ts';
import { zipFile } from '../submit/zip.ts';
import { KIT_VERSION, gitCommit } from '../version.ts';
import { loadPipeline } from './load.ts';
import { computeFeatures, computeShard, modelFeatureIds, planFeatures, type ShardBlock } from './feature-stage.ts';
import { shardLabel, shardRows, type Shard } from './shard.ts';
import { checkDevices, checkModels, prepareLabels } from './preflight.ts';
import { describePlan } from './plan.ts';
import { fitTargets, type TargetFit } from './fit-targets.ts';
import { submissionHeader, tableSpecOf, targetsOf, type Pipeline } from './schema.ts';

export interface RunOptions {
  seed?: number;
  data?: string;
  /** `path=value` overrides of pipeline fields (`--set validation.scheme=time`). */
  set?: string[];
  /** Base folder for runs/, submissions/ and .cache/ (default: the working directory). */
  workDir?: string;
  /** Cache folder (`--cache`; default SMP_CACHE_DIR, else <workDir>/.cache), e.g. on a shared filesystem. */
  cacheDir?: string;
  quiet?: boolean;
  /** Fixed timestamp for the run folder name (tests). */
  timestamp?: string;
  /** The run log (the CLI keeps it to say which stage an interruption stopped). */
  log?: RunLog;
}

export interface RunResult {
  pipeline: Pipeline;
  runDir: string;
  zipPath: string;
  /** report.html, or null when it could not be written (the run log says why). */
  reportPath: string | null;
  /** metrics.json (several targets: the first target's section). */
  metrics: TargetMetrics;
  /** Final test predictions in test-set order (several targets: the first target's). */
  testPredictions: Float64Array;
  /** Several targets: each one's metrics and final test predictions, in data.label order; else empty. */
  targets: { name: string; metrics: TargetMetrics; testPredictions: Float64Array }[];
  table: Table;
}

type TargetMetrics = Record<string, Scores & { folds?: Scores[]; gates?: GateSummary; importance_method?: string }>;

export function defaultModelsDir(): string {
  return process.env.SMP_MODELS_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'smp-kit', 'models');
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

function csv(header: string[], rows: (string | number)[][]): string {
  return [header.join(','), ...rows.map((r) => r.map((v) => (typeof v === 'number' ? Number(v.toFixed(6)) : v)).join(','))].join('\n') + '\n';
}

export function mainMetric(p: Pipeline): MetricName {
  return p.validation.metric ?? (p.task === 'binary' ? 'auc' : p.track === 'video' ? 'mape' : 'src');
}

/**
 * Everything before the first feature block: pipeline, dataset, labels, the feature plan and
 * the preflight checks (runPipeline and planRun share it).
 */
async function prepare(file: string, opts: RunOptions, log: RunLog, preflight = true) {
  const work = path.resolve(opts.workDir ?? '.');
  const { pipeline, locate } = loadPipeline(file, { data: opts.data, seed: opts.seed, set: opts.set });
  log.info('pipeline', `${pipeline.name} (${pipeline.track} track, seed ${pipeline.seed}), data ${pipeline.data.root}`);

  if (!fs.existsSync(pipeline.data.root))
    throw new UserError(
      `${locate(['data', 'root'])} data.root: ${pipeline.track === 'table' ? 'file or folder' : 'folder'} not found: ${pipeline.data.root}${opts.data ? ' (from --data)' : ''}; put the dataset there or pass --data ${pipeline.track === 'table' ? 'FILE' : 'DIR'} (\`smp synth --track ${pipeline.track === 'table' ? 'table --preset artwork' : `${pipeline.track} --posts 4000`} --out DIR\` writes a synthetic one)`,
    );
  const table = await readDataset(pipeline.data.root, {
    track: pipeline.track,
    optional: pipeline.data.optional,
    strict: pipeline.data.strict,
    table: tableSpecOf(pipeline),
    onWarning: (m) => log.warn('data', m),
  });
  if (table.roles) log.info('data', `columns: ${Object.entries(table.roles).map(([c, r]) => `${c} (${r})`).join(', ')}`);
  log.info('data', `${table.nTrain} train posts, ${table.nTest} test posts, ${Object.keys(table.columns).length} columns`);
  if (table.nTrain < 2) throw new UserError(`${pipeline.data.root}: no labelled train posts to learn from`);
  if (table.nTest < 1) throw new UserError(`${pipeline.data.root}: no test posts to predict`);
  const v = pipeline.validation;
  if (v.scheme === 'group-kfold' && v.group !== 'uid' && !(v.group in table.columns))
    throw new UserError(`${locate(['validation', 'group'])} validation.group: the dataset has no column "${v.group}"`);
  // One fold has one model: no disagreement between fold models to rank test rows by.
  if ((v.scheme === 'time' || v.scheme === 'holdout') && pipeline.pseudo_labels.rounds > 0 && pipeline.pseudo_labels.fraction < 1)
    throw new UserError(
      `${locate(['pseudo_labels', 'fraction'])} pseudo_labels.fraction: ${pipeline.pseudo_labels.fraction} picks the test rows the fold models agree on most, but validation.scheme: ${v.scheme} has a single fold model; use fraction: 1 (every test row) or a kfold / group-kfold scheme`,
    );
  prepareLabels(table, pipeline, locate, log);

  const cache = new BlockCache(resolveCacheDir(work, opts.cacheDir), (m) => log.warn('cache', m));
  // Learners and the stacker read these blocks; the others leave memory after their last reader.
  const modelIds = pipeline.models.map((m) => modelFeatureIds(m, pipeline.features));
  const keep = new Set([...modelIds.flat(), ...pipeline.ensemble.stacker.raw_features]);
  // A table's column spec (roles, which column is the time) shapes its blocks as much as the file does.
  const spec = tableSpecOf(pipeline);
  const fingerprint = spec ? hashOf(fingerprintFiles(table.sources), spec) : fingerprintFiles(table.sources);
  const rng = new Random(pipeline.seed);
  const featureRng = rng.fork('features');
  const plan = planFeatures({ entries: pipeline.features, keep, table, fingerprint, seed: featureRng.seed, cache });
  const modelsDir = pipeline.models_dir ?? defaultModelsDir();
  if (preflight) {
    checkModels(plan, pipeline.features, modelsDir);
    await checkDevices(plan, pipeline.features, locate);
  }
  return { work, pipeline, locate, table, cache, modelIds, keep, fingerprint, rng, featureRng, plan, modelsDir };
}

/** `smp run --dry-run`: the plan (blocks and whether cached, models, folds, sizes) without computing anything. */
export async function planRun(file: string, opts: RunOptions = {}): Promise<string> {
  const log = new RunLog({ quiet: true });
  const { pipeline, table, cache, modelIds, plan } = await prepare(file, opts, log);
  return describePlan(pipeline, table, plan, modelIds, cache);
}

/**
 * The cache entries a pipeline uses (`smp cache prune --unreferenced`): its blocks' keys, and its
 * feature entries (kind and params) for matching per-row caches. Reads the dataset (the keys
 * hash its files) but checks no models.
 */
export async function pipelineCacheUse(file: string, opts: RunOptions = {}): Promise<{ keys: string[]; features: { kind: string; params: Record<string, unknown> }[] }> {
  const { pipeline, plan } = await prepare(file, opts, new RunLog({ quiet: true }), false);
  return { keys: Object.values(plan.keys), features: pipeline.features.map((f) => ({ kind: f.kind, params: f.params as Record<string, unknown> })) };
}

/** What `smp run --shard i/N` did: the shard, its rows and each block's share of the work. */
export interface ShardResult {
  shard: Shard;
  /** Rows [lo, hi) of the table this shard covered. */
  rows: [number, number];
  n: number;
  blocks: ShardBlock[];
  seconds: number;
}

/**
 * `smp run --shard i/N`: the per-row work (embeddings, image statistics) of shard i into the
 * cache, then stop; no learners, no run folder. A plain run afterwards finds every row cached.
 */
export async function runShard(file: string, opts: RunOptions & { shard: Shard }): Promise<ShardResult> {
  const started = Date.now();
  const log = opts.log ?? new RunLog({ quiet: opts.quiet });
  const { pipeline, table, cache, keep, fingerprint, featureRng, modelsDir } = await prepare(file, opts, log);
  log.info('shard', `shard ${shardLabel(opts.shard)}: rows ${shardRows(table.n, opts.shard).join('..')} of ${table.n}, cache ${cache.dir}`);
  const blocks = await computeShard({ entries: pipeline.features, keep, table, fingerprint, rng: featureRng, log, cache, modelsDir, shard: opts.shard });
  return { shard: opts.shard, rows: shardRows(table.n, opts.shard), n: table.n, blocks, seconds: (Date.now() - started) / 1000 };
}

/**
 * Writes one target's files into the run folder (`<model>.oof.csv`, `final.test.csv`, ...; with
 * a target name `<model>.<target>.oof.csv`) and returns its metrics.json section.
 */
function writeTargetFiles(runDir: string, table: Table, pipeline: Pipeline, fit: TargetFit, target: string | null): TargetMetrics {
  const { y, folds, validated, rounds, choice, results, ens, post, finalScores, validation } = fit;
  const sfx = target === null ? '' : `.${target}`;
  const metrics: TargetMetrics = {};
  const trainPids = table.pid.slice(0, table.nTrain);
  const testPids = table.pid.slice(table.nTrain);
  /** `<name><sfx>.oof.csv` (pid, label, fold, prediction; empty where never validated) and `.test.csv`. */
  const writePredictions = (name: string, oof: Float64Array, test: Float64Array) => {
    writeFileAtomic(path.join(runDir, `${name}${sfx}.oof.csv`), csv(['pid', 'label', 'fold', 'prediction'], trainPids.map((pid, r) => [pid, y[r], folds.fold[r], Number.isNaN(oof[r]) ? '' : oof[r]])));
    writeFileAtomic(path.join(runDir, `${name}${sfx}.test.csv`), csv(['pid', 'prediction'], testPids.map((pid, i) => [pid, test[i]])));
  };
  for (const m of results) {
    metrics[m.id] = { ...m.scores, folds: m.folds, importance_method: models.get(m.kind).importanceMethod, early_stopping: m.earlyStopping, iterations: m.iterations, ...(m.gates ? { gates: m.gates } : {}) } as never;
    writePredictions(m.id, m.oof, m.test);
    const imp = Object.entries(m.importance).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    writeFileAtomic(path.join(runDir, `${m.id}${sfx}.importance.csv`), csv(['feature', 'importance'], imp));
  }
  metrics.final = { ...finalScores };
  metrics.validation = validation as never;
  // postprocess: what the test predictions got; postprocess_folds: what each fold's CV rows got.
  metrics.ensemble = { method: pipeline.ensemble.method, weights: ens.weights, groups: ens.groups, postprocess: post.fitted, postprocess_folds: post.folds } as never;
  if (rounds.length > 1)
    metrics.pseudo_label_rounds = choice.rounds.map((c, i) => ({
      round: c.round,
      scores: score(pipeline.task, validated.map((r) => y[r]), validated.map((r) => rounds[i].post.oof[r])),
      ...(c.gain ? { gain_mean: c.gain.mean, gain_se: c.gain.se } : {}),
      chosen: c.kept,
    })) as never;
  writePredictions('final', post.oof, post.test);
  return metrics;
}

export async function runPipeline(file: string, opts: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const log = opts.log ?? new RunLog({ quiet: opts.quiet });
  let prep: Awaited<ReturnType<typeof prepare>> | null = await prepare(file, opts, log);
  const { work, pipeline, modelIds, keep, fingerprint, rng, cache, locate, featureRng, modelsDir } = prep;
  let table = prep.table;
  prep = null; // it holds the full table, which must not outlive the feature stage
  const v = pipeline.validation;
  const blocks = await computeFeatures({
    entries: pipeline.features,
    keep,
    table,
    fingerprint,
    rng: featureRng,
    log,
    cache,
    modelsDir,
  });
  // The label-free blocks are built: later stages read only the dates and the validation group
  // (label-aware blocks hold their own declared columns), so user vectors and texts can go.
  table = withColumns(table, ['postdate', v.group]);

  // One fit per target (a single one for one label column), all on the same blocks and seeds.
  const names = targetsOf(pipeline);
  const columns = names.length ? names : [null];
  const ys = columns.map((name) => (name === null ? table.label : table.labels![name]).slice(0, table.nTrain));
  const fits = await fitTargets({ pipeline, table, blocks, metric: mainMetric(pipeline), rng, log, locate, names: columns, ys, modelIds });

  // Run folder and submission.
  const ts = opts.timestamp ?? stamp();
  let runDir = path.join(work, 'runs', pipeline.name, ts);
  for (let i = 2; fs.existsSync(runDir); i++) runDir = path.join(work, 'runs', pipeline.name, `${ts}-${i}`);
  fs.mkdirSync(runDir, { recursive: true });
  log.attach(path.join(runDir, 'log.jsonl'));
  const perTarget = fits.map((fit, t) => writeTargetFiles(runDir, table, pipeline, fit, names.length ? names[t] : null));
  const metrics = perTarget[0];
  const finalTest = fits[0].post.test;
  const validation = fits[0].validation;
  writeFileAtomic(path.join(runDir, 'metrics.json'), JSON.stringify(names.length ? { targets: Object.fromEntries(names.map((n, t) => [n, perTarget[t]])) } : metrics, null, 2) + '\n');

  const testPids = table.pid.slice(table.nTrain);
  const text = renderSubmission({
    track: pipeline.track,
    pids: testPids,
    scores: names.length ? fits.map((f) => f.post.test) : finalTest,
    version: pipeline.submission.version,
    externalData: pipeline.submission.external_data,
    header: submissionHeader(pipeline),
  });
  const entryName = submissionFileName(pipeline.track);
  const problems = validateSubmissionText(entryName, text, pipeline.track, testPids, { header: submissionHeader(pipeline) });
  if (problems.length) throw new Error(`internal: the submission failed validation:\n${problems.join('\n')}`);
  writeFileAtomic(path.join(runDir, entryName), text);
  const zipPath = path.join(work, 'submissions', `${pipeline.name}-${path.basename(runDir)}.zip`);
  await zipFile(zipPath, entryName, text);

  const runInfo = {
    kit_version: KIT_VERSION,
    git_commit: gitCommit(),
    argv: process.argv,
    node: process.version,
    pipeline_file: file,
    seed: pipeline.seed,
    started: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    data: { root: pipeline.data.root, train: table.nTrain, test: table.nTest, fingerprint },
    feature_keys: blocks.keys,
    cache_dir: cache.dir,
    counters: log.counters,
    main_metric: mainMetric(pipeline),
    validation,
    submission: path.relative(work, zipPath),
    config: pipeline,
  };
  writeFileAtomic(path.join(runDir, 'run.json'), JSON.stringify(runInfo, null, 2) + '\n');
  // The report reads only the run folder (and the block cache); a report failure never fails the run.
  let reportPath: string | null = null;
  try {
    const folder = readRunFolder(runDir);
    // several targets: one summary per target
    for (const t of folder.targets.length ? folder.targets : [null]) log.summary(formatRunSummary(t === null || t === folder.target ? folder : readRunTarget(runDir, t)));
    reportPath = await writeReport(folder);
  } catch (e) {
    log.warn('report', `summary or report.html not written: ${(e as Error).message}`);
  }
  log.info('done', `run folder ${path.relative(process.cwd(), runDir) || runDir}`);
  log.info('done', `submission ${path.relative(process.cwd(), zipPath) || zipPath} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  if (reportPath) log.info('done', `report ${path.relative(process.cwd(), reportPath) || reportPath}`);
  const targets = names.map((name, t) => ({ name, metrics: perTarget[t], testPredictions: fits[t].post.test }));
  return { pipeline, runDir, zipPath, reportPath, metrics, testPredictions: finalTest, targets, table };
}
