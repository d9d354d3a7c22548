/**
 * @file `npm run bench:mlp`: seconds per training epoch of the `mlp` learner (onnxruntime-node)
 * on 50,000 x 512 random inputs, layers 256-64-1, batch 512 (no dropout or batch norm, MSE,
 * Adam, constant rate). bench/mlp_torch.py is the PyTorch reference with the same shapes.
 *
 * Env: BENCH_EPOCHS (default 2), BENCH_ROWS (default 50000), BENCH_COLS (default 512),
 * BENCH_THREADS (default 0 = all cores). To time another configuration (e.g. an image-track MLP at
 * full size): BENCH_HIDDEN (default 256,64), BENCH_DROPOUT (0), BENCH_BATCH_NORM (0),
 * BENCH_BATCH (512), BENCH_LOSS (mse).
 * The last line of output is one JSON object: {"backend", "s_per_epoch", "train_mse", "epochs"}
 * (train_mse: mean training loss of the last epoch, on the standardised target).
 */
import { createMatrix } from '../core/matrix.ts';
import { Random } from '../core/random.ts';
import { mlp } from '../models/mlp.ts';

const rows = Number(process.env.BENCH_ROWS ?? 50_000);
const cols = Number(process.env.BENCH_COLS ?? 512);
const epochs = Number(process.env.BENCH_EPOCHS ?? 2);
const threads = Number(process.env.BENCH_THREADS ?? 0);
const hidden = (process.env.BENCH_HIDDEN ?? '256,64').split(',').map(Number);
const dropout = Number(process.env.BENCH_DROPOUT ?? 0);
const batchNorm = process.env.BENCH_BATCH_NORM === '1';
const batch = Number(process.env.BENCH_BATCH ?? 512);
const loss = (process.env.BENCH_LOSS ?? 'mse') as 'mse' | 'huber' | 'mae';

const rng = new Random(2025);
const names = Array.from({ length: cols }, (_, c) => `x${c}`);
const X = createMatrix(rows, cols, names);
for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
const y = new Float64Array(rows);
for (let r = 0; r < rows; r++) {
  const o = r * cols;
  y[r] = Math.sin(X.data[o]) + X.data[o + 1] * X.data[o + 2] + 0.1 * rng.normal();
}

console.log(`mlp bench: ${rows} x ${cols}, layers ${[...hidden, 1].join('-')}, batch ${batch}, dropout ${dropout}, batch norm ${batchNorm}, ${loss}, ${epochs} epoch(s)`);
const params = mlp.params.parse({
  hidden,
  batch_size: batch,
  dropout,
  batch_norm: batchNorm,
  loss,
  lr_schedule: 'constant',
  epochs,
  num_threads: threads,
});
let backend = 'onnxruntime';
let start = 0;
let cpuStart = process.cpuUsage();
let lastMse = NaN;
const perEpoch: number[] = [];
await mlp.fit(X, y, params, {
  seed: 1,
  task: 'regression',
  log: (line) => {
    const m = /onnxruntime (\d+) thread/.exec(line);
    if (m) {
      backend = `onnxruntime-node ${m[1]} thread${m[1] === '1' ? '' : 's'}`;
      start = performance.now(); // clocks start once the column statistics are done
      cpuStart = process.cpuUsage();
    }
  },
  onIter: (epoch, metrics) => {
    const now = performance.now();
    const cpu = process.cpuUsage(cpuStart);
    perEpoch.push((now - start) / 1000);
    start = now;
    cpuStart = process.cpuUsage();
    lastMse = metrics.train_loss;
    // CPU seconds of this process: on a shared machine, wall time / CPU time shows the contention.
    const cpuSec = (cpu.user + cpu.system) / 1e6;
    console.log(`  epoch ${epoch}: ${perEpoch.at(-1)!.toFixed(2)} s wall, ${cpuSec.toFixed(2)} s cpu (train mse ${metrics.train_loss.toFixed(4)})`);
  },
});
const s = perEpoch.reduce((a, v) => a + v, 0) / perEpoch.length;
console.log(JSON.stringify({ backend, s_per_epoch: Number(s.toFixed(3)), train_mse: Number(lastMse.toFixed(4)), epochs: perEpoch.length }));
