/**
 * @file Benchmark of the `gbdt` learner against native XGBoost 1.7 (`xgboost` CLI, Debian
 * package) on a documented synthetic regression.
 *
 * Data (seed 20251125, Random from core/random.ts): 300,000 rows x 100 features, x_j ~ U(0, 1)
 * rounded to 4 decimals (so the CSV handed to XGBoost holds exactly the same float32 values).
 * Target: Friedman #1 scaled by 1/10 plus a gated and a smooth interaction,
 *   y = sin(pi x0 x1) + 2 (x2 - 0.5)^2 + x3 + 0.5 x4 + 0.5 [x5 > 0.5] x6
 *       + 0.3 tanh(5 (x7 - 0.5)) x8 + N(0, 0.3^2)
 * so the noise floor (best possible holdout RMSE) is 0.300; x9..x99 are pure noise features.
 * Split: first 80% of rows train, last 20% holdout (rows are i.i.d.).
 * Settings (both learners): 500 trees, learning rate 0.05, max_depth 8, 255 bins, L2 lambda 1,
 * min child hessian 1, 2 threads; the kit additionally caps num_leaves at 255 (leaf-wise).
 *
 * Timing: kit = wall time of gbdt.fit (binning, worker start-up and training). XGBoost = the
 * CLI's own "Complete Training loop time" (silent=0), which starts after the CSV is parsed and
 * includes its quantile sketch and gradient index, like the kit's time includes binning. CPU
 * seconds (all threads) are printed for both, as a check when the machine is shared. Peak
 * memory: the kit's is this process's max RSS after fit (includes Node itself and the 120 MB
 * float32 data; the RSS before fit is printed beside it); XGBoost's is the CLI's max RSS from /usr/bin/time.
 *
 * Usage: npm run bench:gbdt [-- --rows 300000 --trees 500 --threads 2 --no-xgb]
 * The last line printed is one JSON object {kit_s, kit_rmse, kit_peak_mb, xgb_s, xgb_rmse, ratio}.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Matrix } from '../core/matrix.ts';
import { Random } from '../core/random.ts';
import { rmse } from '../core/eval/metrics.ts';
import { gbdt } from '../models/gbdt/index.ts';
import { flag, numberArg } from './args.ts';

const ROWS = numberArg('rows', 300_000);
const TREES = numberArg('trees', 500);
const THREADS = numberArg('threads', 2);
const COLS = 100;
const SEED = 20251125;
const NOXGB = flag('no-xgb');
const TMP = path.join(path.dirname(fileURLToPath(import.meta.url)), '.tmp');

function makeData(rows: number): { X: Float32Array; y: Float64Array } {
  const rng = new Random(SEED);
  const X = new Float32Array(rows * COLS);
  const y = new Float64Array(rows);
  const x = new Float64Array(COLS);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < COLS; j++) {
      const v = Math.round(rng.next() * 1e4) / 1e4;
      x[j] = Math.fround(v);
      X[r * COLS + j] = v;
    }
    const t =
      Math.sin(Math.PI * x[0] * x[1]) +
      2 * (x[2] - 0.5) ** 2 +
      x[3] +
      0.5 * x[4] +
      (x[5] > 0.5 ? 0.5 * x[6] : 0) +
      0.3 * Math.tanh(5 * (x[7] - 0.5)) * x[8];
    y[r] = t + 0.3 * rng.normal();
  }
  return { X, y };
}

/** Rows r0..r1 as a Matrix view (no copy, so the process holds the 120 MB of data once). */
function slice(X: Float32Array, y: Float64Array, r0: number, r1: number): { M: Matrix; y: Float64Array } {
  const names = Array.from({ length: COLS }, (_, j) => `x${j}`);
  const M: Matrix = { rows: r1 - r0, cols: COLS, data: X.subarray(r0 * COLS, r1 * COLS), names, categorical: new Array<boolean>(COLS).fill(false) };
  return { M, y: y.subarray(r0, r1) };
}

async function writeCsv(file: string, X: Float32Array, y: Float64Array, r0: number, r1: number): Promise<void> {
  if (existsSync(file)) return;
  const tmp = `${file}.part`;
  const out = createWriteStream(tmp);
  let buf: string[] = [];
  for (let r = r0; r < r1; r++) {
    const row = [y[r].toPrecision(10)];
    for (let j = 0; j < COLS; j++) row.push(X[r * COLS + j].toFixed(4));
    buf.push(row.join(','));
    if (buf.length === 5000) {
      if (!out.write(buf.join("\n") + "\n")) await new Promise<void>((res) => out.once("drain", () => res()));
      buf = [];
    }
  }
  if (buf.length) out.write(buf.join('\n') + '\n');
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
  renameSync(tmp, file);
}

function runXgb(conf: string, extra: string[]): { seconds: number; trainS: number | null; peakMb: number | null; cpu: number | null } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS %M CPU %U %S', 'xgboost', conf, 'silent=0', 'verbosity=2', ...extra], { cwd: TMP, encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`xgboost failed: ${r.stderr}`);
  const out = `${r.stdout}\n${r.stderr}`;
  const m = /MAXRSS (\d+) CPU ([\d.]+) ([\d.]+)/.exec(out);
  const t = /Complete Training loop time: ([\d.]+) sec/.exec(out);
  return { seconds, trainS: t ? Number(t[1]) : null, peakMb: m ? Number(m[1]) / 1024 : null, cpu: m ? Number(m[2]) + Number(m[3]) : null };
}

function hasXgb(): boolean {
  return !NOXGB && spawnSync('sh', ['-c', 'command -v xgboost'], { encoding: 'utf8' }).status === 0;
}

async function main(): Promise<void> {
  const nTrain = Math.floor(ROWS * 0.8);
  console.log(`gbdt bench: ${ROWS} rows x ${COLS} features (${nTrain} train / ${ROWS - nTrain} holdout), ${TREES} trees, lr 0.05, depth 8, 255 leaves, 255 bins, ${THREADS} threads`);
  console.log(`load: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')} (1/5/15 min), ${os.availableParallelism()} cores`);
  const { X, y } = makeData(ROWS);
  const tr = slice(X, y, 0, nTrain);
  const te = slice(X, y, nTrain, ROWS);
  const params = gbdt.params.parse({
    n_estimators: TREES,
    learning_rate: 0.05,
    max_depth: 8,
    num_leaves: 255,
    max_bin: 255,
    lambda_l2: 1,
    min_sum_hessian_in_leaf: 1,
    min_data_in_leaf: 1,
    num_threads: THREADS,
    verbose: flag('verbose') ? 100 : 0,
  });
  const rssBefore = process.memoryUsage().rss / 2 ** 20;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const model = await gbdt.fit(tr.M, tr.y, params, { seed: SEED, task: 'regression', log: (m) => console.log(m) });
  const kitS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cu = process.cpuUsage(c0);
  const kitCpu = (cu.user + cu.system) / 1e6;
  const kitPeak = process.resourceUsage().maxRSS / 1024;
  const t1 = process.hrtime.bigint();
  const pred = model.predict(te.M);
  const predS = Number(process.hrtime.bigint() - t1) / 1e9;
  const kitRmse = rmse(te.y, pred);
  console.log(`kit: train ${kitS.toFixed(2)} s (cpu ${kitCpu.toFixed(2)} s over all threads), predict ${te.M.rows} rows ${predS.toFixed(2)} s, holdout RMSE ${kitRmse.toFixed(4)}, peak RSS ${kitPeak.toFixed(0)} MB (RSS before fit, with the data: ${rssBefore.toFixed(0)} MB)`);
  let xgbS: number | null = null;
  let xgbRmse: number | null = null;
  if (hasXgb()) {
    mkdirSync(TMP, { recursive: true });
    const trainCsv = path.join(TMP, `gbdt-v2-train-${SEED}-${ROWS}.csv`);
    const testCsv = path.join(TMP, `gbdt-v2-test-${SEED}-${ROWS}.csv`);
    await writeCsv(trainCsv, X, y, 0, nTrain);
    await writeCsv(testCsv, X, y, nTrain, ROWS);
    const conf = path.join(TMP, 'gbdt-xgb.conf');
    writeFileSync(
      conf,
      [
        'booster = gbtree',
        'objective = reg:squarederror',
        'tree_method = hist',
        'eta = 0.05',
        'max_depth = 8',
        'max_bin = 255',
        'lambda = 1',
        'min_child_weight = 1',
        'nthread = 2',
        `seed = ${SEED}`,
        `data = "${path.basename(trainCsv)}?format=csv&label_column=0"`,
        `test:data = "${path.basename(testCsv)}?format=csv&label_column=0"`,
        'model_out = "gbdt-xgb.model"',
        'name_pred = "gbdt-xgb.pred"',
        '',
      ].join('\n'),
    );
    const lb = os.loadavg()[0];
    const full = runXgb(conf, [`num_round=${TREES}`]);
    runXgb(conf, ['task=pred', 'model_in=gbdt-xgb.model']);
    const xp = readFileSync(path.join(TMP, 'gbdt-xgb.pred'), 'utf8').trim().split('\n').map(Number);
    xgbS = full.trainS ?? full.seconds;
    xgbRmse = rmse(te.y, xp);
    console.log(
      `xgboost 1.7 hist: train ${xgbS.toFixed(2)} s (its own "Complete Training loop time", after parsing; whole run ${full.seconds.toFixed(2)} s, cpu ${full.cpu?.toFixed(2)} s), holdout RMSE ${xgbRmse.toFixed(4)}, peak RSS ${full.peakMb?.toFixed(0)} MB, load before ${lb.toFixed(2)}`,
    );
    console.log(`ratio kit/xgboost: ${(kitS / xgbS).toFixed(2)}x`);
  } else console.log(NOXGB ? 'xgboost skipped (--no-xgb)' : 'xgboost CLI not found (apt-get install xgboost): skipping the native reference');
  console.log(`load after: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  const round = (v: number | null, d: number) => (v === null ? null : Number(v.toFixed(d)));
  console.log(
    JSON.stringify({
      kit_s: round(kitS, 2),
      kit_rmse: round(kitRmse, 4),
      kit_peak_mb: round(kitPeak, 0),
      xgb_s: round(xgbS, 2),
      xgb_rmse: round(xgbRmse, 4),
      ratio: xgbS === null ? null : round(kitS / xgbS, 2),
    }),
  );
}

await main();
