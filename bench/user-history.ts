/**
 * @file Which `user-label-stats` history predicts later posts better: `all` (every training post
 * of the user, inner folds for the training rows) or `past` (only the user's earlier posts)?
 * A hidden-holdout-style check: the run's `validation.scheme: time` trains on the earliest 80% of
 * the train posts by date and scores the latest 20% (what the challenge's test set is to its
 * train set), once per history and seed, everything else equal. Two datasets:
 *
 *   video: the real SMP-Video train (pipelines/video-track.yaml, its features and label filter;
 *          one gbdt of its kind with a fixed number of rounds, no blend, no scale, no early
 *          stopping, so no scored row chooses anything);
 *   synth: a synthetic SMPD (`smp synth --track image --no-images --user-drift D`: each user's
 *          popularity level drifts over time), a fresh one per seed, with bench/user-history.yaml.
 *
 * Prints SRC / MAE / MAPE of the latest 20% per history and seed, the means and the paired
 * difference past - all (mean and its standard error over seeds); writes them to
 * bench/.tmp/user-history/results-<only>[-drift<D>].json.
 *
 * Usage: node --import tsx bench/user-history.ts [--seeds 3] [--posts 20000] [--drift 1.5]
 *        [--only video|synth] [--video-data DIR]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runPipeline } from '../core/pipeline/run.ts';
import { synthImage } from '../core/data/synth-image.ts';
import type { Scores } from '../core/eval/score.ts';
import { KIT_ROOT } from '../core/version.ts';
import { numberArg, stringArg } from './args.ts';

const SEEDS = numberArg('seeds', 3);
const POSTS = numberArg('posts', 20_000);
const DRIFT = numberArg('drift', 1.5);
const ONLY = stringArg('only');
const WORK = path.join(KIT_ROOT, 'bench', '.tmp', 'user-history');
const HISTORIES = ['all', 'past'] as const;
const METRICS = ['src', 'mae', 'mape'] as const;

interface Check {
  name: string;
  pipeline: string;
  /** The data folder of a seed's runs (undefined: the pipeline's). */
  data(seed: number): Promise<string | undefined>;
  /** Overrides of the pipeline besides the history and the time scheme. */
  set: string[];
}

/** `features[i].params.history=<h>` for the pipeline's user-label-stats entry. */
function historySet(pipelineFile: string, history: string): string {
  const raw = parseYaml(fs.readFileSync(pipelineFile, 'utf8')) as { features: { kind: string }[] };
  const i = raw.features.findIndex((f) => f.kind === 'user-label-stats');
  if (i < 0) throw new Error(`${pipelineFile}: no user-label-stats feature`);
  return `features[${i}].params.history=${history}`;
}

const checks: Check[] = [];
if (ONLY === undefined || ONLY === 'video') {
  const gbdt = '{id: gbdt, kind: gbdt, params: {objective: mape, n_estimators: 1000, learning_rate: 0.02, num_leaves: 15, min_data_in_leaf: 10, feature_fraction: 0.8, lambda_l1: 1, bagging_fraction: 0.8, bagging_freq: 1, cat_smooth: 50, min_data_per_group: 50}}';
  checks.push({
    name: 'video',
    pipeline: path.join(KIT_ROOT, 'pipelines', 'video-track.yaml'),
    data: async () => stringArg('video-data'),
    set: [`models=[${gbdt}]`, 'ensemble={method: best}', 'postprocess={clip: true, scale: 1}'],
  });
}
if (ONLY === undefined || ONLY === 'synth') {
  // A fresh synthetic dataset per seed: the spread over seeds includes the data's.
  const data = async (seed: number): Promise<string> => {
    const dir = path.join(WORK, `synth-${POSTS}-drift${DRIFT}-seed${seed}`);
    if (!fs.existsSync(path.join(dir, 'README.md'))) {
      process.stderr.write(`[bench] writing a synthetic SMPD (${POSTS} posts, user drift ${DRIFT}, seed ${seed}) to ${dir}\n`);
      await synthImage({ out: dir, posts: POSTS, seed, images: false, userDrift: DRIFT });
    }
    return dir;
  };
  checks.push({ name: `synth (drift ${DRIFT})`, pipeline: path.join(KIT_ROOT, 'bench', 'user-history.yaml'), data, set: [] });
}

const results: { check: string; history: string; seed: number; scores: Scores; seconds: number }[] = [];
for (const check of checks) {
  for (let s = 0; s < SEEDS; s++) {
    const seed = 2025 + s;
    for (const history of HISTORIES) {
      const t0 = Date.now();
      const r = await runPipeline(check.pipeline, {
        seed,
        data: await check.data(seed),
        set: ['validation.scheme=time', 'validation.valid_fraction=0.2', 'pseudo_labels.rounds=0', ...check.set, historySet(check.pipeline, history)],
        workDir: WORK,
        quiet: true,
      });
      const scores = r.metrics.gbdt ?? r.metrics.final;
      const seconds = (Date.now() - t0) / 1000;
      results.push({ check: check.name, history, seed, scores, seconds });
      console.log(`${check.name} seed ${seed} history ${history}: ${METRICS.map((m) => `${m} ${scores[m]?.toFixed(4)}`).join(' ')} (${seconds.toFixed(0)}s)`);
    }
  }
}

const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const se = (v: number[]): number => (v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1) / v.length) : NaN);
const summary: Record<string, unknown> = {};
console.log('\nlatest 20% of train by date, trained on the earliest 80% (mean over seeds; past - all: mean +- standard error)');
for (const check of checks) {
  const of = (h: string, m: string) => results.filter((r) => r.check === check.name && r.history === h).map((r) => r.scores[m as keyof Scores]!);
  const rows = METRICS.map((m) => {
    const diff = of('past', m).map((v, i) => v - of('all', m)[i]);
    return { metric: m, all: mean(of('all', m)), past: mean(of('past', m)), diff: mean(diff), se: se(diff) };
  });
  summary[check.name] = rows;
  console.log(`\n${check.name} (${SEEDS} seed${SEEDS > 1 ? 's' : ''})`);
  for (const r of rows) console.log(`  ${r.metric.padEnd(5)} all ${r.all.toFixed(4)}  past ${r.past.toFixed(4)}  past - all ${r.diff >= 0 ? '+' : ''}${r.diff.toFixed(4)} +- ${r.se.toFixed(4)}`);
}
fs.mkdirSync(WORK, { recursive: true });
const outFile = path.join(WORK, `results-${ONLY ?? 'all'}${ONLY === 'video' ? '' : `-drift${DRIFT}`}.json`);
fs.writeFileSync(outFile, JSON.stringify({ seeds: SEEDS, posts: POSTS, drift: DRIFT, results, summary }, null, 1));
