/**
 * @file Two checks that a pipeline's CV can be trusted, on a real SMP-Video folder:
 *
 * - holdout (default): the earliest (1 - fraction) of the train posts by post time become the
 *   train set and the latest `fraction` the test set, their labels held back; the pipeline runs
 *   on that copy and its submission is scored with the held-back labels, next to its own CV.
 *   Real test posts come after all train posts: this is the hidden test in miniature.
 * - --shuffle-labels: the popularity values are shuffled across the train posts (seeded); an
 *   honest CV then finds nothing (|SRC| near 0).
 *
 *   node --import tsx bench/holdout.ts [--pipeline pipelines/video-track.yaml] [--data DIR]
 *     [--fraction 0.2] [--work DIR] [--shuffle-labels] [--quiet] [--set path=value ...]
 *
 * Prints one JSON line: the CV of the run and (holdout) the scores on the held-back posts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPipeline } from '../core/pipeline/run.ts';
import { score } from '../core/eval/score.ts';
import { Random } from '../core/random.ts';
import { flag, numberArg } from './args.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const sets = args.flatMap((a, i) => (a === '--set' ? [args[i + 1]] : []));
const PIPELINE = option('pipeline', 'pipelines/video-track.yaml');
const DATA = path.resolve(option('data', '../shared/data/smp-video'));
const WORK = path.resolve(option('work', path.join(os.tmpdir(), 'smp-holdout')));
const FRACTION = numberArg('fraction', 0.2);
const SHUFFLE = flag('shuffle-labels');

type Rec = Record<string, unknown>;
const FILES = { posts: 'posts', users: 'users', videos: 'videos', popularity: 'popularity' } as const;
const file = (dir: string, split: 'train' | 'test', kind: keyof typeof FILES) => path.join(dir, split, `SMP-Video_anonymized_${FILES[kind]}_${split}.jsonl`);
const read = (f: string): Rec[] =>
  fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Rec);
const write = (f: string, recs: Rec[]) => {
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
};

/** Writes the copy under WORK and returns its folder and the held-back labels (pid -> popularity). */
function makeCopy(): { dir: string; held: Map<string, number> } {
  const dir = path.join(WORK, SHUFFLE ? 'shuffled-data' : `holdout-data-${FRACTION}`);
  fs.rmSync(dir, { recursive: true, force: true });
  const posts = read(file(DATA, 'train', 'posts'));
  const users = read(file(DATA, 'train', 'users'));
  const videos = read(file(DATA, 'train', 'videos'));
  const popularity = read(file(DATA, 'train', 'popularity'));
  if (SHUFFLE) {
    const values = new Random(99).shuffle(popularity.map((r) => r.popularity));
    write(file(dir, 'train', 'popularity'), popularity.map((r, i) => ({ ...r, popularity: values[i] })));
    for (const kind of ['posts', 'users', 'videos'] as const) fs.copyFileSync(file(DATA, 'train', kind), file(dir, 'train', kind));
    for (const kind of ['posts', 'users', 'videos'] as const) {
      fs.mkdirSync(path.join(dir, 'test'), { recursive: true });
      fs.copyFileSync(file(DATA, 'test', kind), file(dir, 'test', kind));
    }
    return { dir, held: new Map() };
  }
  // Latest posts by time (ties by pid) are the test set.
  const order = [...posts].sort((a, b) => String(a.post_time).localeCompare(String(b.post_time)) || String(a.pid).localeCompare(String(b.pid)));
  const cut = Math.round(order.length * (1 - FRACTION));
  const testPids = new Set(order.slice(cut).map((p) => String(p.pid)));
  for (const split of ['train', 'test'] as const) {
    const inSplit = (r: Rec) => testPids.has(String(r.pid)) === (split === 'test');
    const splitPosts = posts.filter(inSplit);
    const uids = new Set(splitPosts.map((p) => String(p.uid)));
    write(file(dir, split, 'posts'), splitPosts);
    write(file(dir, split, 'videos'), videos.filter(inSplit));
    write(file(dir, split, 'users'), users.filter((u) => uids.has(String(u.uid))));
    if (split === 'train') write(file(dir, split, 'popularity'), popularity.filter(inSplit));
  }
  return { dir, held: new Map(popularity.filter((r) => testPids.has(String(r.pid))).map((r) => [String(r.pid), Number(r.popularity)])) };
}

const { dir, held } = makeCopy();
const started = Date.now();
const result = await runPipeline(PIPELINE, { data: dir, set: sets, workDir: WORK, quiet: flag('quiet') });
const out: Record<string, unknown> = {
  check: SHUFFLE ? 'shuffled-labels' : `holdout latest ${FRACTION * 100}% by time`,
  pipeline: PIPELINE,
  set: sets,
  train: result.table.nTrain,
  test: result.table.nTest,
  cv: result.metrics.final,
  validation: (result.metrics as Record<string, unknown>).validation,
  minutes: Number(((Date.now() - started) / 60000).toFixed(1)),
  run: path.relative(process.cwd(), result.runDir),
};
if (!SHUFFLE) {
  const pids = result.table.pid.slice(result.table.nTrain);
  const y = pids.map((p) => held.get(p)!);
  out.holdout = score('regression', y, result.testPredictions);
  // A constant median of the train labels: the floor any model must beat.
  const trainY = Float64Array.from(result.table.label.slice(0, result.table.nTrain)).sort();
  out.holdout_median_baseline = score('regression', y, new Float64Array(y.length).fill(trainY[Math.floor(trainY.length / 2)]));
}
console.log(JSON.stringify(out));
