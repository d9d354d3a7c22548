/**
 * @file Benchmark of image embedding throughput: how many images per second the kit decodes
 * and preprocesses for CLIP, and how many go through the whole `clip-image` kind with the tiny
 * fixture model, whose inference costs next to nothing, so the figure is the kit's own ceiling.
 *
 * Data: 2,000 synthetic JPEGs (quality 85) of mixed sizes, generated once into
 * bench/.tmp/embed (git-ignored; seed 2025): widths 160..1600 px, aspect ratios 4:3, 3:4, 1:1,
 * 16:9, 3:2, 2:3 (about 0.05 to 1.9 megapixels, median about 0.5), smooth colour blobs plus
 * fine noise so JPEG decoding does real work.
 *
 * 1. preprocess: decode + EXIF orientation + resize (shortest side 224, bicubic) + centre crop
 *    224 + normalise to CHW floats, with CLIP ViT-B/32's preprocessor settings, through the
 *    image pool (worker threads, batches of 32, the next batches in flight), nothing else.
 * 2. fixture model: the `clip-image` kind end to end (row keys, pool, batched inference,
 *    normalisation, shard writes to a fresh cache) with the tiny CLIP fixture built at the same
 *    224 input size (test/fixtures/tiny-models.ts).
 *
 * Besides wall-clock images/s, each phase prints its CPU time per image over all threads of the
 * process (process.cpuUsage), and the rate two free cores would give, because on a shared
 * machine the wall-clock figure mostly measures the neighbours.
 *
 * Usage: npm run bench:embed [-- --images 2000 --workers 2 --batch 32 --device cpu|cuda|auto]
 * (--device: where the fixture model runs, with --batch inputs per call on either device)
 * The last line printed is one JSON object {"preprocess_ips", "fixture_model_ips"}.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { Random } from '../core/random.ts';
import { RunLog } from '../core/report/run-log.ts';
import type { Table } from '../core/data/table.ts';
import { clipImage } from '../features/clip-image.ts';
import { ImagePool } from '../features/embed/image-pool.ts';
import { clipImageSpec } from '../features/embed/preprocess.ts';
import { buildTinyModels, CLIP_MEAN, CLIP_STD, TINY_CLIP_ID } from '../test/fixtures/tiny-models.ts';
import { featureContext } from '../test/fixtures/embed-data.ts';
import { numberArg, stringArg } from './args.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TMP = path.join(HERE, '.tmp', 'embed');

const IMAGES = numberArg('images', 2000);
const WORKERS = numberArg('workers', 2);
const BATCH = numberArg('batch', 32);
const DEVICE = stringArg('device', 'cpu');
const ASPECTS = [4 / 3, 3 / 4, 1, 16 / 9, 3 / 2, 2 / 3];

async function makeImages(dir: string, n: number): Promise<string[]> {
  const marker = path.join(dir, `done-${n}.txt`);
  const files = Array.from({ length: n }, (_, i) => path.join(dir, `${String(i).padStart(5, '0')}.jpg`));
  if (fs.existsSync(marker)) return files;
  fs.mkdirSync(dir, { recursive: true });
  const rng = new Random(2025);
  const t0 = Date.now();
  let next = 0;
  const work = async () => {
    while (next < n) {
      const i = next++;
      const r = rng.fork(i);
      const w = 160 + r.int(1441);
      const h = Math.max(64, Math.round(w / ASPECTS[r.int(ASPECTS.length)]));
      // a coarse random grid blown up to w x h (smooth blobs), plus fine noise
      const gw = 6, gh = 6;
      const grid = Buffer.alloc(gw * gh * 3);
      for (let k = 0; k < grid.length; k++) grid[k] = r.int(256);
      const base = await sharp(grid, { raw: { width: gw, height: gh, channels: 3 } }).resize(w, h, { kernel: 'cubic' }).raw().toBuffer();
      for (let k = 0; k < base.length; k += 7) base[k] = Math.min(255, base[k] + r.int(24));
      await sharp(base, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 85 }).toFile(files[i]);
    }
  };
  await Promise.all(Array.from({ length: 4 }, work));
  fs.writeFileSync(marker, `${n} images in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
  return files;
}

/** CPU seconds of this process (every thread: main, workers, libuv/libvips, ONNX Runtime) since `from`. */
function cpuSeconds(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

async function main(): Promise<void> {
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  process.stderr.write(`[bench:embed] ${IMAGES} images, ${WORKERS} workers, batch ${BATCH}, ${cores} cores, load ${os.loadavg()[0].toFixed(1)}\n`);
  const files = await makeImages(path.join(TMP, 'images'), IMAGES);
  const mp = files.slice(0, 200).map(() => 0);
  let bytes = 0;
  for (const f of files) bytes += fs.statSync(f).size;
  for (let i = 0; i < mp.length; i++) {
    const m = await sharp(files[i]).metadata();
    mp[i] = (m.width! * m.height!) / 1e6;
  }
  mp.sort((a, b) => a - b);
  console.log(`data: ${files.length} JPEGs, ${(bytes / 1e6).toFixed(0)} MB, median ${mp[mp.length >> 1].toFixed(2)} MP (first 200)`);

  // 1. decode + CLIP ViT-B/32 preprocessing alone
  const spec = clipImageSpec({ crop_size: 224, do_center_crop: true, do_normalize: true, do_resize: true, image_mean: CLIP_MEAN, image_std: CLIP_STD, resample: 3, size: 224 });
  const pool = new ImagePool(WORKERS);
  await pool.preprocess(files.slice(0, WORKERS || 1), spec); // start-up, not timed
  let t0 = performance.now();
  let cpu0 = process.cpuUsage();
  let ok = 0;
  const inflight: Promise<{ ok: Uint8Array }>[] = [];
  for (let s = 0; s < files.length; s += BATCH) {
    inflight.push(pool.preprocess(files.slice(s, s + BATCH), spec));
    if (inflight.length >= Math.max(2, WORKERS + 1)) ok += (await inflight.shift()!).ok.reduce((a, b) => a + b, 0);
  }
  for (const p of inflight) ok += (await p).ok.reduce((a, b) => a + b, 0);
  const preSec = (performance.now() - t0) / 1000;
  const preCpu = cpuSeconds(cpu0);
  await pool.close();
  if (ok !== files.length) throw new Error(`only ${ok} of ${files.length} images decoded`);
  const preprocessIps = files.length / preSec;
  console.log(`preprocess (decode + resize 224 + crop + normalise): ${preprocessIps.toFixed(1)} images/s (${preSec.toFixed(2)}s wall)`);
  console.log(`  CPU ${((preCpu / files.length) * 1000).toFixed(2)} ms per image (all threads) -> ${((2 * files.length) / preCpu).toFixed(0)} images/s if 2 cores were free`);

  // 2. clip-image end to end with the tiny fixture at 224 px
  const modelsDir = path.join(TMP, 'models');
  buildTinyModels(modelsDir, { crop: 224, shortest: 224 });
  const cacheDir = path.join(TMP, 'cache');
  fs.rmSync(cacheDir, { recursive: true, force: true });
  const n = files.length;
  const table: Table = {
    track: 'image',
    root: TMP,
    n,
    nTrain: n,
    nTest: 0,
    pid: files.map((_, i) => String(i)),
    uid: files.map(() => 'u'),
    label: new Float64Array(n),
    columns: {},
    media: files,
    sources: [],
  };
  const log = new RunLog({ quiet: true });
  t0 = performance.now();
  cpu0 = process.cpuUsage();
  const m = await clipImage.compute(featureContext(table, { cacheDir, modelsDir, log }), clipImage.params.parse({ model: TINY_CLIP_ID, workers: WORKERS, batch_size: BATCH, cuda_batch_size: BATCH, device: DEVICE }));
  const fixSec = (performance.now() - t0) / 1000;
  const fixCpu = cpuSeconds(cpu0);
  if (m.rows !== n || log.counters['clip-image.computed'] !== n) throw new Error('clip-image did not compute every row');
  const fixtureIps = n / fixSec;
  console.log(`clip-image with the fixture model (load, pool start, inference, cache writes): ${fixtureIps.toFixed(1)} images/s (${fixSec.toFixed(2)}s wall)`);
  console.log(`  CPU ${((fixCpu / n) * 1000).toFixed(2)} ms per image (all threads) -> ${((2 * n) / fixCpu).toFixed(0)} images/s if 2 cores were free; load average now ${os.loadavg()[0].toFixed(1)}`);
  console.log(JSON.stringify({ preprocess_ips: Number(preprocessIps.toFixed(1)), fixture_model_ips: Number(fixtureIps.toFixed(1)), device: DEVICE }));
}

await main();
