/**
 * @file The `smp` command line.
 *
 *   smp run <pipeline.yaml> [--seed N] [--data DIR] [--cache DIR] [--shard i/N|auto|auto/N]
 *   smp validate <file.json|.csv|.zip> --data <dataset root> [--track image|video|table] [--header H | --pipeline FILE]
 *   smp synth --track image|video --posts N --out DIR [--seed S]
 *   smp synth --track table --preset artwork|segments|sequence|illustration --out DIR [--rows N] [--seed S]
 *   smp synth --track image (--posts N | --train N --test M | --full) --no-images [--embeddings image:512,text:384] --out DIR
 *   smp synth --track image ... --user-drift SD   (each user's popularity level drifts over time)
 *   smp schema [--out pipelines/schema.json]
 *   smp kinds [kind]      (one kind: its params with types, defaults and help)
 *   smp compare <run dirs...> [--html out.html]
 *   smp cache ls [--cache DIR] / smp cache prune [--older-than 30d] [--unreferenced pipelines/*.yaml] [--dry-run]
 *   smp device          (can embedding models run on CUDA here? what is missing)
 *   smp export <run dir> [--out DIR] [--format parquet,npy,csv] [--cache DIR]
 *   smp models list [--dir DIR]                   (models folder: SMP_MODELS_DIR or ~/.cache/smp-kit/models)
 *   smp models fetch <model id> [--dir DIR] [--dtype fp32|q8|...] [--host URL]
 *   smp demo            (npm start: generate data/sample if missing, run pipelines/demo.yaml)
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { UserError } from './errors.ts';
import { KIT_ROOT, KIT_VERSION } from './version.ts';
import { DATA_GROUPS } from './pipeline/schema.ts';

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return n;
  };
}

function nonNegative(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number >= 0`);
    return n;
  };
}

/** "image:512,text:384" -> [{name, dim}]. */
function embeddingList(v: string): { name: 'image' | 'text'; dim: number }[] {
  return v.split(',').map((part) => {
    const m = /^(image|text):(\d+)$/.exec(part.trim());
    if (!m || Number(m[2]) < 8) throw new InvalidArgumentError(`expected name:dim pairs of image and text with dim >= 8 (e.g. image:512,text:384), got "${part}"`);
    return { name: m[1] as 'image' | 'text', dim: Number(m[2]) };
  });
}

function track(v: string): 'image' | 'video' | 'table' {
  if (v !== 'image' && v !== 'video' && v !== 'table') throw new InvalidArgumentError('expected image, video or table');
  return v;
}

/** Last line of a run: one JSON object (run folder, zip, report, final CV) for scripts. */
function printResult(r: { runDir: string; zipPath: string; reportPath: string | null; metrics: Record<string, unknown>; targets: { name: string; metrics: Record<string, unknown> }[] }): void {
  const rel = (p: string) => path.relative(process.cwd(), p) || p;
  // Several targets: the final CV scores of each.
  const final = r.targets.length ? Object.fromEntries(r.targets.map((t) => [t.name, t.metrics.final])) : r.metrics.final;
  console.log(JSON.stringify({ run: rel(r.runDir), submission: rel(r.zipPath), report: r.reportPath ? rel(r.reportPath) : null, final }));
}

/** `smp run --shard`: the shard's per-row work into the cache, a summary per block, and one JSON line for scripts. */
async function runShardCommand(file: string, spec: string, opts: { seed?: number; data?: string; set?: string[]; quiet?: boolean; cacheDir?: string }): Promise<void> {
  const { parseShard, shardLabel } = await import('./pipeline/shard.ts');
  const { runShard } = await import('./pipeline/run.ts');
  const shard = parseShard(spec);
  const r = await runShard(file, { ...opts, shard });
  const done = r.blocks.filter((b) => b.status === 'computed');
  for (const b of r.blocks) console.error(`[shard ${shardLabel(shard)}] ${b.id} (${b.kind}): ${b.status === 'computed' ? `${b.rows} rows, ${b.computed} computed, ${b.cached} from the cache` : b.status}`);
  console.error(
    `[shard ${shardLabel(shard)}] rows ${r.rows[0]}..${r.rows[1] - 1} of ${r.n} done in ${r.seconds.toFixed(1)}s: ${done.length} per-row block${done.length === 1 ? '' : 's'}, ` +
      `${done.reduce((s, b) => s + b.computed, 0)} rows computed. When every shard is done, run without --shard (same --cache) to train and submit.`,
  );
  console.log(JSON.stringify({ shard: shardLabel(shard), rows: r.rows, n: r.n, seconds: r.seconds, blocks: r.blocks }));
}

const program = new Command()
  .name('smp')
  .description('smp-kit: popularity-prediction pipelines from SMP data to a validated, zipped submission')
  .version(KIT_VERSION)
  .showHelpAfterError();

program
  .command('run')
  .description('run a pipeline file: features, cross-validated learners, ensemble, submission zip')
  .argument('<pipeline>', 'pipeline YAML file')
  .option('--seed <n>', 'override the pipeline seed', int('--seed'))
  .option('--data <dir>', 'dataset folder (overrides data.root)')
  .option('--set <path=value...>', 'override pipeline fields, e.g. --set validation.scheme=time models[0].params.learning_rate=0.05')
  .option('--quiet', 'no progress lines')
  .option('--allow-download', 'let embedding features download missing models into the models folder')
  .option('--dry-run', 'check the pipeline, data and models, print the plan (blocks and whether cached, models, folds, sizes) and exit')
  .option('--cache <dir>', 'cache folder (default SMP_CACHE_DIR, else .cache), e.g. on a filesystem shared by shard runs')
  .option('--shard <i/N|auto|auto/N>', 'compute only shard i of N of the per-row work (embeddings, image-stats) into the cache and exit; auto: from SLURM_ARRAY_TASK_ID/COUNT, auto/N: from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX')
  .action(async (file: string, o: { seed?: number; data?: string; set?: string[]; quiet?: boolean; allowDownload?: boolean; dryRun?: boolean; cache?: string; shard?: string }) => {
    if (o.allowDownload) process.env.SMP_ALLOW_DOWNLOAD = '1';
    const { planRun, runPipeline } = await import('./pipeline/run.ts');
    const opts = { ...o, cacheDir: o.cache };
    if (o.dryRun) {
      console.log(await planRun(file, opts));
      return;
    }
    if (o.shard !== undefined) {
      await runShardCommand(file, o.shard, opts);
      return;
    }
    const { RunLog } = await import('./report/run-log.ts');
    const log = new RunLog({ quiet: o.quiet });
    // Cache entries and run files are written atomically (temp name + rename), so stopping
    // here leaves only complete files; say where the run stopped and that a rerun resumes.
    const stop = (signal: 'SIGINT' | 'SIGTERM') => {
      const stage = log.stage ? `during stage "${log.stage}"${log.lastMessage ? ` (last: ${log.lastMessage})` : ''}` : 'before the first stage';
      log.event('interrupted', { signal, stage: log.stage });
      process.stderr.write(`\n[interrupted] ${signal} ${stage}. Feature blocks and embedding shards already computed are in the cache (.cache/, or --cache / SMP_CACHE_DIR); rerun the same command to resume from them.\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const r = await runPipeline(file, { ...opts, log });
    printResult(r);
  });

program
  .command('validate')
  .description('check a submission against the test set: format, row count, order, unique ids, finite scores')
  .argument('<file>', 'submission .json, .csv or .zip')
  .option('--data <dir>', 'dataset root holding the test split (default: the pipeline\'s data.root)')
  .option('--track <track>', 'image, video or table (default: the pipeline\'s, else from the file type, .json image, .csv video)', track)
  .option('--pipeline <file>', 'take the track, data folder and CSV header (submission.header; table track: <id>,<label>) from this pipeline; the table track needs it')
  .option('--header <header>', 'CSV header the scorer expects (video default pid,popularity_score; 2026: pid,polularity_score)')
  .action(async (file: string, o: { data?: string; track?: 'image' | 'video' | 'table'; pipeline?: string; header?: string }) => {
    const { readDataset } = await import('./data/read-dataset.ts');
    const { inferTrack, validateSubmissionFile } = await import('./submit/validate.ts');
    const { submissionHeader, tableSpecOf } = await import('./pipeline/schema.ts');
    const p = o.pipeline ? (await import('./pipeline/load.ts')).loadPipeline(o.pipeline, { data: o.data }).pipeline : null;
    const t = o.track ?? p?.track ?? (await inferTrack(file));
    if (!t) throw new UserError(`validate: cannot tell the track of ${file} from its type; pass --track image or --track video`);
    const tableSpec = p && t === 'table' ? tableSpecOf(p) : undefined;
    if (t === 'table' && !tableSpec) throw new UserError('validate: a table-track submission needs --pipeline FILE (its data section names the id, label and split columns)');
    const data = o.data ?? p?.data.root;
    if (!data) throw new UserError('validate: pass --data DIR (the dataset holding the test split) or --pipeline FILE');
    const header = o.header ?? (p ? submissionHeader(p) : undefined);
    const table = await readDataset(data, { track: t, splits: ['test'], optional: [...DATA_GROUPS], strict: false, table: tableSpec });
    const problems = await validateSubmissionFile(file, t, table.pid.slice(table.nTrain), { header });
    if (problems.length) {
      for (const p of problems) console.error(p);
      console.error(`${file}: INVALID (${problems.length} problem${problems.length > 1 ? 's' : ''})`);
      process.exitCode = 1;
      return;
    }
    console.log(`${file}: valid ${t}-track submission, ${table.nTest} rows in test-set order${t !== 'image' ? `, header ${header ?? 'pid,popularity_score'}` : ''}`);
  });

program
  .command('synth')
  .description('write a synthetic dataset in the real file formats, with planted signal')
  .requiredOption('--track <track>', 'image, video or table', track)
  .option('--preset <name>', 'table track: which stand-in (artwork: the digital-artwork study, 389 rows; segments: gated-fusion signal; sequence: user-history signal; illustration: images with two targets, log_views and log_favourites, 600 rows)', 'artwork')
  .option('--rows <n>', 'table track: rows, train + test (default: the preset\'s)', int('--rows'))
  .requiredOption('--out <dir>', 'output folder')
  .option('--posts <n>', 'number of posts, train + test (the newest 25% are test)', int('--posts'))
  .option('--train <n>', 'exact number of train posts (with --test, instead of --posts; image track)', int('--train'))
  .option('--test <n>', 'exact number of test posts (with --train; image track)', int('--test'))
  .option('--full', 'full SMPD size: 305,613 train + 180,581 test posts (image track)')
  .option('--no-images', 'image track: write no image files (hidden latent factors replace the image terms of the label)')
  .option('--embeddings <list>', 'with --no-images: precomputed embeddings to write, name:dim,... of image and text (e.g. image:512,text:384)', embeddingList)
  .option('--user-drift <sd>', "image track: sd of each user's planted popularity drift over time (default 0: none)", nonNegative('--user-drift'))
  .option('--seed <n>', 'seed', int('--seed'), 2025)
  .action(
    async (o: { track: 'image' | 'video' | 'table'; preset: string; rows?: number; posts?: number; train?: number; test?: number; full?: boolean; images: boolean; embeddings?: { name: 'image' | 'text'; dim: number }[]; userDrift?: number; out: string; seed: number }) => {
      if (o.track === 'table') {
        const { synthTable, TABLE_PRESETS } = await import('./data/synth-table.ts');
        const preset = TABLE_PRESETS.find((p) => p === o.preset);
        if (!preset) throw new UserError(`synth --track table: unknown --preset "${o.preset}"; presets: ${TABLE_PRESETS.join(', ')}`);
        if (o.posts !== undefined || o.train !== undefined || o.full) throw new UserError('synth --track table: give the size with --rows N (or leave it out for the preset\'s)');
        const c = await synthTable({ out: o.out, preset, seed: o.seed, rows: o.rows });
        console.log(`wrote ${c.train} train + ${c.test} test rows (${preset}) to ${o.out}`);
        return;
      }
      const sizes = [o.posts !== undefined, o.train !== undefined || o.test !== undefined, o.full === true].filter(Boolean).length;
      if (sizes !== 1) throw new UserError('synth: give the size one way: --posts N, --train N --test M, or --full');
      if ((o.train === undefined) !== (o.test === undefined)) throw new UserError('synth: --train and --test go together');
      if (o.track === 'video' && o.posts === undefined) throw new UserError('synth --track video: give --posts N');
      if (o.track === 'video' && (!o.images || o.embeddings)) throw new UserError('synth --track video: --no-images and --embeddings are for the image track');
      if (o.track !== 'image' && o.userDrift !== undefined) throw new UserError('synth: --user-drift is for the image track');
      if (o.embeddings && o.images) throw new UserError('synth: --embeddings needs --no-images (with images, compute embeddings from them with clip-image / clip-text)');
      const t0 = Date.now();
      let counts: { train: number; test: number };
      if (o.track === 'image') {
        const { synthImage, SMPD_SIZES } = await import('./data/synth-image.ts');
        const size = o.full ? { ...SMPD_SIZES } : o.posts !== undefined ? { posts: o.posts } : { train: o.train, test: o.test };
        counts = await synthImage({
          out: o.out,
          ...size,
          seed: o.seed,
          images: o.images,
          embeddings: o.embeddings,
          userDrift: o.userDrift,
          onProgress: (m) => process.stderr.write(`[synth] ${m} (${((Date.now() - t0) / 1000).toFixed(1)}s)\n`),
        });
      } else counts = await (await import('./data/synth-video.ts')).synthVideo({ out: o.out, posts: o.posts!, seed: o.seed });
      console.log(`wrote ${counts.train} train + ${counts.test} test ${o.track} posts to ${o.out} in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    },
  );

program
  .command('schema')
  .description('write the JSON Schema of pipeline files (for editor completion)')
  .option('--out <file>', 'output file', path.join(KIT_ROOT, 'pipelines', 'schema.json'))
  .action(async (o: { out: string }) => {
    const { writeSchema } = await import('./pipeline/json-schema.ts');
    writeSchema(o.out);
    console.log(`wrote ${o.out}`);
  });

program
  .command('kinds')
  .description('list feature and learner kinds; with a kind, its params (types, defaults, help)')
  .argument('[kind]', 'a feature or learner kind, e.g. gbdt or time')
  .action(async (kind: string | undefined) => {
    const { features } = await import('../features/index.ts');
    const { models } = await import('../models/index.ts');
    if (kind) {
      const { formatKind } = await import('./kind-help.ts');
      if (features.has(kind)) console.log(formatKind(features.get(kind), 'feature'));
      else if (models.has(kind)) console.log(formatKind(models.get(kind), 'learner'));
      else throw new UserError(`unknown kind "${kind}"; feature kinds: ${features.kinds.join(', ')}; learner kinds: ${models.kinds.join(', ')}`);
      return;
    }
    console.log('features:');
    for (const f of features.all()) console.log(`  ${f.kind.padEnd(20)} ${f.summary}`);
    console.log('learners:');
    for (const m of models.all()) console.log(`  ${m.kind.padEnd(20)} ${m.summary}`);
    console.log('\n`smp kinds <kind>` prints the params of one kind.');
  });

program
  .command('compare')
  .description('leaderboards of runs, one per dataset (path, fingerprint), task and main metric: pipeline, run, seed, final CV metrics and each learner\'s main metric; runs on different data are never ranked together')
  .argument('<runs...>', 'run folders (runs/<pipeline>/<timestamp>), or folders holding them (runs/<pipeline>, runs)')
  .option('--html <file>', 'also write the leaderboard as a self-contained HTML file')
  .action(async (dirs: string[], o: { html?: string }) => {
    const { compareRuns } = await import('./report/compare.ts');
    const r = await compareRuns(dirs, o);
    console.log(r.text);
    if (r.html) console.log(`wrote ${r.html}`);
  });

// ---- smp export (issue 14)
program
  .command('export')
  .description('write a run\'s feature blocks, labels, folds, OOF and test predictions as Parquet / .npy / CSV for Python, with a README of loading lines')
  .argument('<run>', 'run folder (runs/<pipeline>/<timestamp>)')
  .option('--out <dir>', 'output folder (default <run>/export)')
  .option('--format <list>', 'comma-separated: parquet, npy, csv', 'parquet,npy')
  .option('--cache <dir>', 'block cache the run used (default: run.json cache_dir, else <work dir>/.cache)')
  .action(async (run: string, o: { out?: string; format: string; cache?: string }) => {
    const { exportRun, parseFormats } = await import('./export/export-run.ts');
    const t0 = Date.now();
    const r = await exportRun(run, { out: o.out, formats: parseFormats(o.format), cacheDir: o.cache, onProgress: (m) => process.stderr.write(`[export] ${m}\n`) });
    for (const s of r.skipped) process.stderr.write(`[export] skipped ${s.id}: ${s.why}\n`);
    console.log(`exported ${r.blocks.length} blocks, ${r.files.length} files to ${path.relative(process.cwd(), r.out) || r.out} in ${((Date.now() - t0) / 1000).toFixed(1)}s (see README.md there)`);
  });

// ---- smp device (issue 14)
program
  .command('device')
  .description('whether embedding models can run on CUDA here (device: cuda / auto), and if not, what is missing')
  .action(async () => {
    const { cudaProblem, cudaEnvironment } = await import('../features/embed/device.ts');
    const problem = await cudaProblem();
    console.log(`onnxruntime-node binaries: ${cudaEnvironment().binDir}`);
    if (problem) {
      console.log(`cuda: not usable: ${problem}`);
      console.log('device: auto runs on the CPU here; device: cuda stops with this message');
      process.exitCode = 1;
    } else console.log('cuda: ok (the CUDA execution provider ran a test session); device: auto and device: cuda run on the GPU');
  });

// ---- smp cache ls | prune (issue 14)
const cacheCmd = program.command('cache').description('entries of the cache folder (--cache DIR, else SMP_CACHE_DIR, else .cache): list them, prune by age or by what no pipeline uses');

cacheCmd
  .command('ls')
  .description('every block and per-row cache with its kind, id, size and last use')
  .option('--cache <dir>', 'cache folder')
  .action(async (o: { cache?: string }) => {
    const { resolveCacheDir } = await import('./cache/block-cache.ts');
    const { formatEntries, listCacheEntries } = await import('./cache/cache-entries.ts');
    const dir = resolveCacheDir('.', o.cache);
    console.log(`cache folder: ${dir}`);
    console.log(formatEntries(listCacheEntries(dir)));
  });

cacheCmd
  .command('prune')
  .description('remove entries unused for a while (--older-than) and/or that no given pipeline uses (--unreferenced); both given: entries matching both')
  .option('--cache <dir>', 'cache folder')
  .option('--older-than <age>', 'last used longer ago than this: 30d, 12h, 2w, 90m')
  .option('--unreferenced <pipelines...>', 'not used by any of these pipeline files (reads their datasets to compute the block keys)')
  .option('--dry-run', 'list what would be removed, remove nothing')
  .action(async (o: { cache?: string; olderThan?: string; unreferenced?: string[]; dryRun?: boolean }) => {
    const { resolveCacheDir } = await import('./cache/block-cache.ts');
    const { formatBytes, formatEntries, isPrunable, listCacheEntries, parseAge, removeCacheEntries } = await import('./cache/cache-entries.ts');
    if (!o.olderThan && !o.unreferenced) throw new UserError('cache prune: say what to remove: --older-than AGE (e.g. 30d) and/or --unreferenced pipelines/*.yaml');
    const dir = resolveCacheDir('.', o.cache);
    const olderThanMs = o.olderThan ? parseAge(o.olderThan) : undefined;
    let use: import('./cache/cache-entries.ts').CacheUse | undefined;
    if (o.unreferenced) {
      const { pipelineCacheUse } = await import('./pipeline/run.ts');
      const keys = new Set<string>();
      const feats: { kind: string; params: Record<string, unknown> }[] = [];
      for (const f of o.unreferenced) {
        const u = await pipelineCacheUse(f, { cacheDir: dir });
        u.keys.forEach((k) => keys.add(k));
        feats.push(...u.features);
      }
      use = { keys, features: feats };
    }
    const doomed = listCacheEntries(dir).filter((e) => isPrunable(e, { olderThanMs, use }));
    const bytes = formatBytes(doomed.reduce((s, e) => s + e.bytes, 0));
    if (doomed.length) console.log(formatEntries(doomed));
    if (o.dryRun) console.log(`dry run: would remove ${doomed.length} entries (${bytes}) from ${dir}`);
    else {
      removeCacheEntries(dir, doomed);
      console.log(`removed ${doomed.length} entries (${bytes}) from ${dir}`);
    }
  });

const modelsCmd = program.command('models').description('embedding models in the models folder (--dir, else SMP_MODELS_DIR, else ~/.cache/smp-kit/models)');

modelsCmd
  .command('list')
  .description('models present in the models folder, their size and what they can be loaded as')
  .option('--dir <dir>', 'models folder')
  .action(async (o: { dir?: string }) => {
    const { defaultModelsDir } = await import('./pipeline/run.ts');
    const { listModels } = await import('../features/embed/models.ts');
    const dir = path.resolve(o.dir ?? defaultModelsDir());
    const list = listModels(dir);
    console.log(`models folder: ${dir}`);
    if (list.length === 0) console.log('  (no models; get one with `smp models fetch Xenova/clip-vit-base-patch32`)');
    for (const m of list) console.log(`  ${m.id.padEnd(40)} ${(m.bytes / 1e6).toFixed(1).padStart(8)} MB  ${m.roles.join(', ') || 'incomplete'}  [${m.dtypes.join(', ')}]`);
  });

modelsCmd
  .command('fetch')
  .description('download a model (CLIP: both towers, processor, tokenizer; otherwise a feature-extraction model) into the models folder')
  .argument('<id>', 'Hugging Face model id, e.g. Xenova/clip-vit-base-patch32 or Xenova/all-MiniLM-L6-v2')
  .option('--dir <dir>', 'models folder')
  .option('--dtype <dtype>', 'weights variant: fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4', 'fp32')
  .option('--host <url>', 'hub mirror (default HF_ENDPOINT or https://huggingface.co/)')
  .action(async (id: string, o: { dir?: string; dtype: string; host?: string }) => {
    const { defaultModelsDir } = await import('./pipeline/run.ts');
    const { DTYPES, fetchModel } = await import('../features/embed/models.ts');
    if (!(DTYPES as readonly string[]).includes(o.dtype)) throw new UserError(`--dtype: expected one of ${DTYPES.join(', ')}`);
    const dir = path.resolve(o.dir ?? defaultModelsDir());
    const seen = new Set<string>();
    const m = await fetchModel(id, {
      modelsDir: dir,
      dtype: o.dtype as (typeof DTYPES)[number],
      host: o.host,
      onProgress: (e) => {
        if (e.status === 'done' && e.file && !seen.has(e.file)) {
          seen.add(e.file);
          process.stderr.write(`[models] ${id}/${e.file}\n`);
        }
      },
    });
    console.log(`${m.id}: ${(m.bytes / 1e6).toFixed(1)} MB in ${m.folder} (${m.roles.join(', ') || 'incomplete'})`);
  });

program
  .command('demo')
  .description('generate the bundled sample into data/sample (if missing) and run pipelines/demo.yaml on it')
  .option('--seed <n>', 'override the pipeline seed', int('--seed'))
  .action(async (o: { seed?: number }) => {
    const { ensureBundledSample } = await import('./data/bundled-sample.ts');
    const sample = await ensureBundledSample(process.cwd(), (line) => process.stderr.write(`[demo] ${line}\n`));
    const { runPipeline } = await import('./pipeline/run.ts');
    const r = await runPipeline(path.join(KIT_ROOT, 'pipelines', 'demo.yaml'), { seed: o.seed, data: sample });
    printResult(r);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof UserError) {
    console.error(`error: ${e.message}`);
    process.exitCode = 1;
  } else throw e;
}
