/**
 * Writes a fake but consistent run folder (and its block cache) for report tests:
 * `<work>/runs/<name>/<ts>/` with run.json, metrics.json, two learners' oof/test/importance CSVs,
 * optional final.*.csv, ensemble weights, pseudo-label rounds, and `<work>/.cache/blocks/<key>/`
 * holding the features named in importance.csv.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Random } from '../../core/random.ts';
import { encodeNpy } from '../../core/cache/npy.ts';
import { score } from '../../core/eval/score.ts';

export interface FakeRunOptions {
  work: string;
  name?: string;
  ts?: string;
  seed?: number;
  task?: 'regression' | 'binary';
  nTrain?: number;
  nTest?: number;
  final?: boolean;
  extras?: boolean;
  cache?: boolean;
  /** run.json data.root (default data/sample). */
  dataRoot?: string;
  /** run.json data.fingerprint; null leaves it out, as in runs made before it was recorded. */
  fingerprint?: string | null;
}

const csv = (header: string[], rows: (string | number)[][]) => [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';

export function writeFakeRun(o: FakeRunOptions): string {
  const task = o.task ?? 'regression';
  const name = o.name ?? 'fake';
  const seed = o.seed ?? 7;
  const nTrain = o.nTrain ?? 600;
  const nTest = o.nTest ?? 200;
  const rng = new Random(seed);
  const dir = path.join(o.work, 'runs', name, o.ts ?? '20260101-120000');
  fs.mkdirSync(dir, { recursive: true });
  const k = 5;
  // Features: hour (signal), likes (strong signal), noise.
  const n = nTrain + nTest;
  const hour = Float32Array.from({ length: n }, () => rng.int(24));
  const likes = Float32Array.from({ length: n }, () => rng.uniform(0, 10));
  const noise = Float32Array.from({ length: n }, () => rng.normal());
  const raw = Float64Array.from({ length: n }, (_, i) => 0.6 * likes[i] + 0.1 * hour[i] + rng.normal());
  const label = task === 'binary' ? raw.map((v) => (v > 4.5 ? 1 : 0)) : raw.map((v) => Math.max(0, v));
  const fold = Int32Array.from({ length: nTrain }, (_, i) => (i % 17 === 16 ? -1 : i % k));
  const models = ['ridge', 'gbdt'];
  const metrics: Record<string, unknown> = {};
  const preds: Record<string, Float64Array> = {};
  const mainMetric = task === 'binary' ? 'auc' : 'src';
  for (const [mi, id] of models.entries()) {
    const p = Float64Array.from({ length: n }, (_, i) => {
      const lin = 0.55 * likes[i] + 0.08 * hour[i] + (mi ? 0.4 : 0.7) * rng.normal();
      return task === 'binary' ? 1 / (1 + Math.exp(-(lin - 4.5))) : lin;
    });
    preds[id] = p;
    const rows = [...Array(nTrain).keys()].filter((r) => fold[r] >= 0);
    const folds = [...Array(k).keys()].map((f) => {
      const rr = rows.filter((r) => fold[r] === f);
      return score(task, rr.map((r) => label[r]), rr.map((r) => p[r]));
    });
    metrics[id] = { ...score(task, rows.map((r) => label[r]), rows.map((r) => p[r])), folds, importance_method: `${id} importance` };
    fs.writeFileSync(path.join(dir, `${id}.oof.csv`), csv(['pid', 'label', 'fold', 'prediction'], [...Array(nTrain).keys()].map((r) => [`p${r}`, +label[r].toFixed(6), fold[r], fold[r] < 0 ? '' : +p[r].toFixed(6)])));
    fs.writeFileSync(path.join(dir, `${id}.test.csv`), csv(['pid', 'prediction'], [...Array(nTest).keys()].map((i) => [`t${i}`, +p[nTrain + i].toFixed(6)])));
    const imp: [string, number][] = [['meta.likes', mi ? 120 : 0.55], ['time.hour', mi ? 40 : 0.08], ['meta.noise', mi ? 5 : 0.01], ['userstats.mean', mi ? 30 : 0.2]];
    imp.sort((a, b) => b[1] - a[1]);
    fs.writeFileSync(path.join(dir, `${id}.importance.csv`), csv(['feature', 'importance'], imp));
  }
  const finalP = preds.ridge.map((v, i) => 0.3 * v + 0.7 * preds.gbdt[i]);
  const validated = [...Array(nTrain).keys()].filter((r) => fold[r] >= 0);
  metrics.final = score(task, validated.map((r) => label[r]), validated.map((r) => finalP[r]));
  if (o.extras !== false) {
    // as core/pipeline/run.ts writes them
    metrics.ensemble = {
      method: 'blend',
      weights: { final: { ridge: 0.3, gbdt: 0.7 } },
      groups: [{ id: 'final', members: ['ridge', 'gbdt'], scores: metrics.final }],
      postprocess: { scale: 1.02 },
    };
    metrics.pseudo_label_rounds = [
      { round: 0, scores: { [mainMetric]: 0.61 }, chosen: false },
      { round: 1, scores: { [mainMetric]: 0.63 }, gain_mean: 0.02, gain_se: 0.005, chosen: true },
    ];
  }
  if (o.final !== false) {
    fs.writeFileSync(path.join(dir, 'final.oof.csv'), csv(['pid', 'label', 'fold', 'prediction'], [...Array(nTrain).keys()].map((r) => [`p${r}`, +label[r].toFixed(6), fold[r], fold[r] < 0 ? '' : +finalP[r].toFixed(6)])));
    fs.writeFileSync(path.join(dir, 'final.test.csv'), csv(['pid', 'prediction'], [...Array(nTest).keys()].map((i) => [`t${i}`, +finalP[nTrain + i].toFixed(6)])));
  }
  fs.writeFileSync(path.join(dir, 'metrics.json'), JSON.stringify(metrics, null, 2));
  const feature_keys = { meta: `meta-${seed}`, time: `time-${seed}`, userstats: `userstats-${seed}` };
  if (o.cache !== false) {
    const put = (key: string, names: string[], cols: Float32Array[]) => {
      const d = path.join(o.work, '.cache', 'blocks', key);
      fs.mkdirSync(d, { recursive: true });
      const data = new Float32Array(n * names.length);
      for (let i = 0; i < n; i++) cols.forEach((c, j) => (data[i * names.length + j] = c[i]));
      fs.writeFileSync(path.join(d, 'block.npy'), encodeNpy(data, n, names.length));
      fs.writeFileSync(path.join(d, 'meta.json'), JSON.stringify({ names, categorical: names.map(() => false) }));
    };
    put(feature_keys.meta, ['noise', 'likes'], [noise, likes]);
    put(feature_keys.time, ['hour'], [hour]);
  }
  const run = {
    kit_version: '0.1.0',
    git_commit: 'abc123',
    argv: ['node', 'smp', 'run'],
    node: 'v20.0.0',
    pipeline_file: `pipelines/${name}.yaml`,
    seed,
    started: '2026-01-01T12:00:00.000Z',
    seconds: 12.5,
    data: { root: o.dataRoot ?? 'data/sample', train: nTrain, test: nTest, ...(o.fingerprint === null ? {} : { fingerprint: o.fingerprint ?? 'f00dfeed0000000000000000' }) },
    feature_keys,
    counters: {},
    main_metric: mainMetric,
    submission: `submissions/${name}.zip`,
    config: { name, track: 'image', task, seed, validation: { scheme: 'kfold', folds: k }, models: models.map((id) => ({ id, kind: id })), ensemble: { method: 'best' } },
  };
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(run, null, 2));
  return dir;
}
