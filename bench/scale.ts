/**
 * @file `npm run bench:scale`: the kit on a full-size synthetic SMPD image track. Generates once
 * (`smp synth --track image --full --no-images --embeddings image:512,text:384`) into
 * `.bench/smpd-full` (git-ignored; reused when its `.complete` marker matches), then runs
 * `bench/scale.yaml` on it as a child process (`node bin/smp.js run`, under `/usr/bin/time -v`
 * when present), echoing its log. It prints seconds per stage and the peak RSS as the run goes
 * (stage boundaries from the run's own log lines: `[data]` ends read, `[validation]` ends features,
 * `[model <id>] CV:` ends that model, which includes the fold-wise label-aware blocks it fits first,
 * `[ensemble] round 0:` ends the ensemble; `submit` is post-processing, files, zip and report), then
 * scores the submission on the held-out answers (`answers/test_label.txt`). The run works in
 * `.bench/scale-work` (its block cache, run folder and zip), with the cache emptied first so every
 * block is computed: the figures are those of a first run (BENCH_WARM=1 keeps the cache).
 *
 * The last line is one JSON object:
 *   {"wall_s", "peak_rss_mb", "cv_src", "test_src", "test_mae", "stages": {"read", "features", "<model id>"..., "ensemble", "submit"},
 *    "generate": {"wall_s", "peak_rss_mb"} (only when this call generated the data)}
 *
 * Env: BENCH_TRAIN / BENCH_TEST (smaller set for a quick check, folder `.bench/smpd-<train>-<test>`),
 * BENCH_DATA (dataset folder to use or create), BENCH_PIPELINE (default bench/scale.yaml),
 * BENCH_SEED (data seed, default 2025), BENCH_WARM (keep the block cache of the last run), BENCH_CPU_PROF (folder for a `node --cpu-prof` profile of the run).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { SMPD_SIZES } from '../core/data/synth-image.ts';
import { mae, src } from '../core/eval/metrics.ts';
import { KIT_ROOT } from '../core/version.ts';

const train = Number(process.env.BENCH_TRAIN ?? SMPD_SIZES.train);
const test = Number(process.env.BENCH_TEST ?? SMPD_SIZES.test);
const seed = Number(process.env.BENCH_SEED ?? 2025);
const full = train === SMPD_SIZES.train && test === SMPD_SIZES.test;
const dataDir = path.resolve(process.env.BENCH_DATA ?? path.join(KIT_ROOT, '.bench', full ? 'smpd-full' : `smpd-${train}-${test}`));
const pipelineFile = path.resolve(process.env.BENCH_PIPELINE ?? path.join(KIT_ROOT, 'bench', 'scale.yaml'));
const EMBEDDINGS = 'image:512,text:384';
const workDir = path.join(KIT_ROOT, '.bench', 'scale-work');
const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

const say = (m: string): void => void process.stderr.write(`[bench] ${m}\n`);
const mb = (kb: number): number => Math.round(kb / 1024);

/** Peak RSS (kB) of a process and its descendants' current peaks, read from /proc (Linux). */
function peakKb(pid: number): number {
  let peak = 0;
  const visit = (p: number): void => {
    try {
      const hwm = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
      if (hwm) peak = Math.max(peak, Number(hwm[1]));
      for (const t of fs.readdirSync(`/proc/${p}/task`))
        for (const c of fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) visit(Number(c));
    } catch {
      // the process ended between two reads
    }
  };
  visit(pid);
  return peak;
}

interface Timed {
  wall_s: number;
  peak_rss_mb: number;
  stdout: string[];
}

/**
 * Runs `node bin/smp.js ...args` (under /usr/bin/time -v when present), calling `onLine` for each
 * stderr line of the kit as it comes; peak RSS from time -v, else from polling /proc.
 */
function runKit(args: string[], onLine: (line: string, peakMb: number) => void): Promise<Timed> {
  // BENCH_CPU_PROF=DIR: the run writes a V8 CPU profile there (node --cpu-prof).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(process.env.BENCH_CPU_PROF)] : [];
  const node = [process.execPath, ...prof, path.join(KIT_ROOT, 'bin', 'smp.js'), ...args];
  const cmd = TIME ? [TIME, '-v', ...node] : node;
  const t0 = Date.now();
  const child = spawn(cmd[0], cmd.slice(1), { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let polled = 0;
  const poll = setInterval(() => (polled = Math.max(polled, peakKb(child.pid!))), 1000);
  const stdout: string[] = [];
  let timeKb = 0;
  const timeLines: string[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (l) => stdout.push(l));
  readline.createInterface({ input: child.stderr! }).on('line', (l) => {
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(l);
    if (m) timeKb = Number(m[1]);
    if (/^\t/.test(l)) timeLines.push(l.trim()); // /usr/bin/time -v report
    else onLine(l, mb(Math.max(polled, peakKb(child.pid!))));
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      if (code !== 0) return reject(new Error(`${args[0]} exited with ${code}${stdout.length ? `; stdout: ${stdout.join('\n')}` : ''}`));
      if (timeLines.length) say(`/usr/bin/time -v: ${timeLines.filter((l) => /Elapsed|Maximum resident|User time|System time|Percent of CPU/.test(l)).join('; ')}`);
      resolve({ wall_s: (Date.now() - t0) / 1000, peak_rss_mb: mb(Math.max(timeKb, polled)), stdout });
    });
  });
}

/** Generates the dataset unless a complete one with the same parameters is there. */
async function ensureData(): Promise<{ wall_s: number; peak_rss_mb: number } | null> {
  const marker = path.join(dataDir, '.complete');
  const want = { train, test, seed, embeddings: EMBEDDINGS };
  if (fs.existsSync(marker)) {
    const have = JSON.parse(fs.readFileSync(marker, 'utf8'));
    if (JSON.stringify(have.params) === JSON.stringify(want)) {
      say(`reusing ${path.relative(process.cwd(), dataDir)} (generated ${have.generated})`);
      return null;
    }
    say(`${dataDir} was generated with ${JSON.stringify(have.params)}; regenerating`);
  }
  if (fs.existsSync(dataDir)) fs.rmSync(dataDir, { recursive: true, force: true }); // a half-written folder of ours
  say(`generating ${train} train + ${test} test posts with ${EMBEDDINGS} embeddings into ${path.relative(process.cwd(), dataDir)} ...`);
  const r = await runKit(
    ['synth', '--track', 'image', '--train', String(train), '--test', String(test), '--no-images', '--embeddings', EMBEDDINGS, '--seed', String(seed), '--out', dataDir],
    (l) => process.stderr.write(`${l}\n`),
  );
  fs.writeFileSync(marker, JSON.stringify({ params: want, generated: new Date().toISOString(), wall_s: r.wall_s, peak_rss_mb: r.peak_rss_mb }) + '\n');
  say(`generated in ${r.wall_s.toFixed(1)}s, peak RSS ${r.peak_rss_mb} MB`);
  return { wall_s: r.wall_s, peak_rss_mb: r.peak_rss_mb };
}

/** Test-set SRC and MAE of a run's final test predictions against the held-out answers. */
function scoreTest(runDir: string): { test_src: number; test_mae: number } {
  const lines = (f: string): string[] => fs.readFileSync(f, 'utf8').trim().split('\n');
  const pids = lines(path.join(dataDir, 'test', 'test_img_filepath.txt')).map((p) => path.basename(p).replace(/\.[^.]+$/, ''));
  const answers = lines(path.join(dataDir, 'answers', 'test_label.txt')).map(Number);
  const pred = new Map(lines(path.join(runDir, 'final.test.csv')).slice(1).map((l) => l.split(',')).map(([pid, p]) => [pid, Number(p)] as const));
  const p = pids.map((id) => {
    const v = pred.get(id);
    if (v === undefined) throw new Error(`${runDir}/final.test.csv: no prediction for test post ${id}`);
    return v;
  });
  return { test_src: Number(src(answers, p).toFixed(4)), test_mae: Number(mae(answers, p).toFixed(4)) };
}

if (!process.env.BENCH_WARM) fs.rmSync(path.join(workDir, '.cache'), { recursive: true, force: true });
fs.mkdirSync(workDir, { recursive: true });
const generate = await ensureData();
say(`running ${path.relative(process.cwd(), pipelineFile)} on ${path.relative(process.cwd(), dataDir)}`);
const stages: Record<string, number> = {};
const t0 = Date.now();
let mark = t0;
const stage = (name: string, peak: number): void => {
  const now = Date.now();
  stages[name] = Number(((now - mark) / 1000).toFixed(1));
  mark = now;
  say(`stage ${name}: ${stages[name]}s (elapsed ${((now - t0) / 1000).toFixed(0)}s, peak RSS ${peak} MB)`);
};
const run = await runKit(['run', pipelineFile, '--data', dataDir], (l, peak) => {
  process.stderr.write(`${l}\n`);
  let m: RegExpExecArray | null;
  if (/^\[data\] \d+ train posts/.test(l)) stage('read', peak);
  else if (/^\[validation\] /.test(l)) stage('features', peak);
  else if ((m = /^\[model (\S+)\] CV: /.exec(l))) stage(m[1], peak);
  else if (/^\[ensemble\] round \d+: /.test(l)) stage('ensemble', peak);
});
stage('submit', run.peak_rss_mb);
const result = JSON.parse(run.stdout[run.stdout.length - 1]) as { run: string; final: Record<string, number> };
const summary = {
  wall_s: Number(run.wall_s.toFixed(1)),
  peak_rss_mb: run.peak_rss_mb,
  cv_src: Number(result.final.src.toFixed(4)),
  ...scoreTest(path.resolve(workDir, result.run)),
  stages,
  ...(generate ? { generate } : {}),
};
console.log(JSON.stringify(summary));
