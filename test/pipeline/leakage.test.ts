import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthImage } from '../../core/data/synth-image.ts';
import { runPipeline } from '../../core/pipeline/run.ts';
import { Random } from '../../core/random.ts';
import { mae } from '../../core/eval/metrics.ts';
import { tmpDir, writeFile } from '../helpers.ts';

// The full path: label-aware user statistics inside folds, a stacked ensemble of two learners
// with a raw-feature gbdt stacker, and a pseudo-label round. With shuffled labels nothing real is
// left to learn, so an honest CV must find nothing; with the real labels it must find the signal.
const PIPELINE = `name: leak
track: image
seed: 3
data: { root: data }
validation: { scheme: kfold, folds: 4 }
features:
  - { id: meta, kind: metadata }
  - { id: user, kind: user, params: { vectors: false } }
  - { id: text, kind: text-stats }
  - { id: userstats, kind: user-label-stats }
models:
  - { id: ridge, kind: ridge, params: { alpha: 1 } }
  - { id: trees, kind: gbdt, params: { n_estimators: 60, num_leaves: 15, learning_rate: 0.1, min_data_in_leaf: 10, num_threads: 1 } }
ensemble:
  method: stack
  stacker: { kind: nnls }
pseudo_labels: { rounds: 1, weight: 0.5 }
`;

let dir: string;

beforeAll(async () => {
  dir = tmpDir('leak');
  await synthImage({ out: path.join(dir, 'real'), posts: 1300, seed: 8 });
  // Same dataset, labels permuted across train rows.
  fs.cpSync(path.join(dir, 'real'), path.join(dir, 'shuffled'), { recursive: true });
  const labelFile = path.join(dir, 'shuffled', 'train', 'train_label.txt');
  const labels = fs.readFileSync(labelFile, 'utf8').trim().split('\n');
  fs.writeFileSync(labelFile, new Random(99).shuffle(labels).join('\n') + '\n');
  writeFile(path.join(dir, 'leak.yaml'), PIPELINE);
});

describe('leakage', () => {
  it('shuffled labels give CV SRC near 0 through user stats, stacking and pseudo-labels', async () => {
    const file = path.join(dir, 'leak.yaml');
    const shuffled = await runPipeline(file, { workDir: dir, data: path.join(dir, 'shuffled'), quiet: true });
    const real = await runPipeline(file, { workDir: dir, data: path.join(dir, 'real'), quiet: true });
    // ~975 train rows: the null SRC has a standard deviation of about 0.032.
    expect(Math.abs(shuffled.metrics.final.src!)).toBeLessThan(0.1);
    for (const id of ['ridge', 'trees']) expect(Math.abs(shuffled.metrics[id].src!)).toBeLessThan(0.1);
    expect(real.metrics.final.src).toBeGreaterThan(0.5);
  });

  // A gbdt stacker reading raw columns beside the OOF predictions (it could memorise rows if it
  // were fitted on the rows it scores), then calibration, a searched scale and the date trend.
  // Ranks do not see an affine map, so MAE is checked too: on shuffled labels no honest prediction
  // beats the constant median. (Three global parameters leak too little to show at this size; that
  // each fold's post-processing is fitted without it is tested in postprocess.test.ts.)
  it('shuffled labels: a gbdt stacker with raw features and calibrate / scale / date trend find nothing', async () => {
    const file = writeFile(
      path.join(dir, 'leak-post.yaml'),
      PIPELINE.replace('folds: 4 }', 'folds: 4, metric: mae }')
        .replace('stacker: { kind: nnls }', 'stacker: { kind: gbdt, raw_features: [meta, text], params: { n_estimators: 40, num_leaves: 7, learning_rate: 0.1, min_data_in_leaf: 20, num_threads: 1 } }')
        .replace('pseudo_labels: { rounds: 1, weight: 0.5 }', 'postprocess: { calibrate: true, scale: auto, scale_range: [0.8, 1.2], date_trend: true }'),
    );
    const shuffled = await runPipeline(file, { workDir: dir, data: path.join(dir, 'shuffled'), quiet: true });
    const real = await runPipeline(file, { workDir: dir, data: path.join(dir, 'real'), quiet: true });
    const y = shuffled.table.label.subarray(0, shuffled.table.nTrain);
    const median = Float64Array.from(y).sort()[Math.floor(y.length / 2)];
    const baseline = mae(y, new Float64Array(y.length).fill(median));
    expect(Math.abs(shuffled.metrics.final.src!)).toBeLessThan(0.1);
    expect(shuffled.metrics.final.mae!).toBeGreaterThan(0.98 * baseline);
    const post = (JSON.parse(fs.readFileSync(path.join(shuffled.runDir, 'metrics.json'), 'utf8')) as { ensemble: { postprocess: Record<string, number> } }).ensemble.postprocess;
    expect(Object.keys(post).sort()).toEqual(['calibrate_a', 'calibrate_b', 'date_trend_per_day', 'scale']);
    // The same configuration does learn the real labels.
    expect(real.metrics.final.src).toBeGreaterThan(0.5);
  });
});
