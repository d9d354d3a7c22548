/**
 * @file Times one `gbdt` fit at the full benchmark's fold shape, on synthetic data: 244,000
 * training and 61,000 validation rows x 217 float32 features (20 declared categorical with
 * 3-40 codes, 10 low-cardinality integer columns, 187 continuous of which 40 have 5-30% NaN),
 * target with signal in 36 columns plus noise (seeded Random, core/random.ts). Params as the
 * benchmark's: l2, lr 0.08, 63 leaves, min_data_in_leaf 100, feature_fraction 0.8, bagging
 * 0.8 every round, lambda_l2 1, early stopping 30, 2 threads; 60 trees by default.
 * With --binary the target is y > 0 and the objective binary (the plain (g, h) histograms).
 * With --metric src early stopping scores Spearman's rank correlation every round, as bench:scale
 * does (validation.metric src); the default is the objective's own (rmse, logloss).
 * Prints wall and CPU seconds of the fit, RSS, validation RMSE and a hash of the validation
 * predictions' bytes (same seed and data: the same hash means byte-identical predictions).
 *
 * Usage: node --import tsx bench/gbdt-fold.ts [--rows 244000 --valid 61000 --features 217
 *        --trees 60 --leaves 63 --bagging 0.8 --feature-fraction 0.8 --threads 2 --repeat 1 --binary --metric src]
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import { createMatrix, type Matrix } from '../core/matrix.ts';
import { Random } from '../core/random.ts';
import { rmse, type MetricName } from '../core/eval/metrics.ts';
import { gbdt } from '../models/gbdt/index.ts';
import { flag, numberArg, stringArg } from './args.ts';

const ROWS = numberArg('rows', 244_000);
const VALID = numberArg('valid', 61_000);
const F = numberArg('features', 217);
const TREES = numberArg('trees', 60);
const LEAVES = numberArg('leaves', 63);
const BAG = numberArg('bagging', 0.8);
const FF = numberArg('feature-fraction', 0.8);
const THREADS = numberArg('threads', 2);
const REPEAT = numberArg('repeat', 1);
const SEED = 20260301;
const BINARY = flag('binary');
const METRIC = stringArg('metric') as MetricName | undefined;

/** Column kinds: 0..19 categorical, 20..29 low-cardinality integers, the rest continuous. */
function makeData(rows: number, seed: number): { X: Matrix; y: Float64Array } {
  const names = Array.from({ length: F }, (_, j) => `x${j}`);
  const categorical = Array.from({ length: F }, (_, j) => j < 20);
  const X = createMatrix(rows, F, names, categorical);
  const colRng = new Random(SEED);
  const card = Array.from({ length: F }, () => 3 + colRng.int(38));
  const nanRate = Array.from({ length: F }, (_, j) => (j >= 30 && j < 70 ? 0.05 + 0.25 * colRng.next() : 0));
  const catEffect = Array.from({ length: 20 }, () => Float64Array.from({ length: 41 }, () => colRng.normal()));
  const rng = new Random(seed);
  const y = new Float64Array(rows);
  const d = X.data;
  for (let r = 0; r < rows; r++) {
    const o = r * F;
    for (let j = 0; j < F; j++) {
      let v: number;
      if (j < 30) v = rng.int(card[j]);
      else if (rng.next() < nanRate[j]) v = NaN;
      else v = j % 3 === 0 ? rng.normal() : rng.next() * 100;
      d[o + j] = v;
    }
    const z = (j: number) => (Number.isNaN(d[o + j]) ? 0 : d[o + j]);
    let t = 0;
    for (let j = 0; j < 6; j++) t += 0.3 * catEffect[j][d[o + j]];
    for (let j = 20; j < 24; j++) t += 0.05 * d[o + j];
    t += Math.sin(z(30) / 15) + (z(31) > 50 ? 0.5 : -0.2) + 0.3 * z(33) * (z(36) > 0 ? 1 : -1);
    for (let j = 70; j < 90; j++) t += (j % 3 === 0 ? 0.1 * z(j) : 0.004 * (z(j) - 50)) * (j % 2 ? 1 : -1);
    t += 0.2 * Math.tanh(z(90)) * (z(91) / 50 - 1);
    y[r] = t + 0.8 * rng.normal();
    if (BINARY) y[r] = y[r] > 0 ? 1 : 0;
  }
  return { X, y };
}

async function main(): Promise<void> {
  console.log(`gbdt fold bench: ${ROWS} train / ${VALID} valid rows x ${F} features, ${TREES} trees, ${LEAVES} leaves, bagging ${BAG}, feature_fraction ${FF}, ${THREADS} threads${METRIC ? `, metric ${METRIC}` : ''}`);
  console.log(`load: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  const tr = makeData(ROWS, SEED + 1);
  const va = makeData(VALID, SEED + 2);
  const params = gbdt.params.parse({
    objective: BINARY ? 'binary' : 'l2',
    n_estimators: TREES,
    learning_rate: 0.08,
    num_leaves: LEAVES,
    min_data_in_leaf: 100,
    feature_fraction: FF,
    bagging_fraction: BAG,
    bagging_freq: BAG < 1 ? 1 : 0,
    lambda_l2: 1,
    early_stopping_rounds: 30,
    num_threads: THREADS,
    verbose: flag('verbose') ? TREES : 0,
  });
  for (let rep = 0; rep < REPEAT; rep++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const model = await gbdt.fit(tr.X, tr.y, params, { seed: SEED, task: BINARY ? 'binary' : 'regression', valid: { X: va.X, y: va.y }, metric: METRIC, log: (m) => console.log(m) });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const cu = process.cpuUsage(c0);
    const pred = model.predict(va.X);
    const hash = createHash('sha256').update(new Uint8Array(pred.buffer, pred.byteOffset, pred.byteLength)).digest('hex').slice(0, 16);
    const rss = process.memoryUsage().rss / 2 ** 20;
    console.log(
      `fit ${s.toFixed(2)} s, cpu ${((cu.user + cu.system) / 1e6).toFixed(2)} s (process, all threads), rss ${rss.toFixed(0)} MB, peak ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB, valid rmse ${rmse(va.y, pred).toFixed(5)}, pred sha256 ${hash}`,
    );
  }
}

await main();
