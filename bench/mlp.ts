/**
 * @file `npm run bench:mlp`: seconds per training epoch of the `mlp` learner on 50,000 x 512
 * random inputs, layers 256-64-1, batch 512 (no dropout or batch norm, MSE, constant rate),
 * for each tfjs backend available here (tfjs-node when installed, wasm, cpu).
 *
 * Env: BENCH_EPOCHS (default 2), BENCH_ROWS (default 50000), BENCH_COLS (default 512),
 * BENCH_BACKENDS (comma list to restrict, e.g. `wasm`).
 * The last line of output is one JSON object: backend name -> seconds per epoch.
 */
import { createMatrix } from '../core/matrix.ts';
import { Random } from '../core/random.ts';
import { availableMlpBackends, mlp } from '../models/mlp.ts';

const rows = Number(process.env.BENCH_ROWS ?? 50_000);
const cols = Number(process.env.BENCH_COLS ?? 512);
const epochs = Number(process.env.BENCH_EPOCHS ?? 2);
const only = process.env.BENCH_BACKENDS?.split(',').map((s) => s.trim());

const rng = new Random(2025);
const names = Array.from({ length: cols }, (_, c) => `x${c}`);
const X = createMatrix(rows, cols, names);
for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
const y = new Float64Array(rows);
for (let r = 0; r < rows; r++) {
  const o = r * cols;
  y[r] = Math.sin(X.data[o]) + X.data[o + 1] * X.data[o + 2] + 0.1 * rng.normal();
}

const backends = (await availableMlpBackends()).filter((b) => !only || only.includes(b));
console.log(`mlp bench: ${rows} x ${cols}, layers 256-64-1, batch 512, ${epochs} epoch(s) per backend; backends: ${backends.join(', ')}`);
const result: Record<string, number> = {};
for (const backend of backends) {
  const params = mlp.params.parse({
    backend,
    hidden: [256, 64],
    batch_size: 512,
    dropout: 0,
    batch_norm: false,
    loss: 'mse',
    lr_schedule: 'constant',
    epochs,
  });
  let name = backend as string;
  let start = 0;
  let cpuStart = process.cpuUsage();
  const perEpoch: number[] = [];
  await mlp.fit(X, y, params, {
    seed: 1,
    task: 'regression',
    log: (line) => {
      const m = /^mlp: tfjs backend (\S+)/.exec(line);
      if (m) name = m[1];
      if (/^mlp: \d+ rows/.test(line)) {
        start = performance.now(); // clocks start once inputs are encoded
        cpuStart = process.cpuUsage();
      }
    },
    onIter: (epoch, metrics) => {
      const now = performance.now();
      const cpu = process.cpuUsage(cpuStart);
      perEpoch.push((now - start) / 1000);
      start = now;
      cpuStart = process.cpuUsage();
      // CPU seconds of this process: on a shared machine, wall time / CPU time shows the contention.
      const cpuSec = (cpu.user + cpu.system) / 1e6;
      console.log(`  ${name} epoch ${epoch}: ${perEpoch.at(-1)!.toFixed(2)} s wall, ${cpuSec.toFixed(2)} s cpu (train mse ${metrics.train_loss.toFixed(4)})`);
    },
  });
  result[name] = Number((perEpoch.reduce((s, v) => s + v, 0) / perEpoch.length).toFixed(2));
}
console.log(JSON.stringify(result));
