/**
 * @file `image-stats`: cheap pixel statistics of each post's image, the classic hand-made
 * image features of SMP systems. Per image, decoded with sharp and downscaled to fit a
 * `size` x `size` box (aspect kept, never enlarged), a few images at a time:
 *   width, height, aspect (w/h) and file size of the original (log1p of sizes by default);
 *   brightness (mean Rec.601 luma, 0..1), contrast (luma standard deviation, 0..1),
 *   saturation (mean HSV saturation, 0..1), colourfulness (Hasler & Suesstrunk 2003, on the
 *   0..255 scale: ~0 grey, >100 very colourful), entropy (bits, 256-bin luma histogram),
 *   sharpness (variance of the 3x3 Laplacian of luma, 0..255 scale, at the downscaled size),
 *   hue histogram (fraction of all pixels that are chromatic, HSV s > 0.2 and v > 0.2, in each
 *   of `hue_bins` equal hue sectors starting at red).
 * A missing or undecodable image gives a NaN row with `missing` = 1, a count under
 * `images_corrupt` in the run log and a warning naming the first few; never a crash.
 * Rows are cached per (post id + file size and mtime) like the embedding kinds
 * (embed/extract.ts, .npy shard files under the cache's rows/), so an interrupted run resumes
 * and `smp run --shard i/N` can split the decoding over machines.
 *
 * @example
 *   - id: imgstats
 *     kind: image-stats
 *     params: { size: 128, hue_bins: 8, concurrency: 8 }
 */
import fs from 'node:fs';
import sharp from 'sharp';
import { z } from 'zod';
import { createMatrix } from '../core/matrix.ts';
import { UserError } from '../core/errors.ts';
import { defineFeature } from './feature.ts';
import { extractEmbeddings, type BatchOutput } from './embed/extract.ts';
import { fileKey, rowCacheDir } from './embed/common.ts';

/** Pixel statistics (everything but the file-level sizes), in output order. */
export const PIXEL_STATS = ['brightness', 'contrast', 'saturation', 'colourfulness', 'entropy', 'sharpness'] as const;

/** 1/v for v in 1..255 (0 for 0): saturation without a division per pixel. */
const RECIPROCAL = Float64Array.from({ length: 256 }, (_, v) => (v === 0 ? 0 : 1 / v));

/**
 * Statistics of an interleaved 8-bit RGB(+) buffer: PIXEL_STATS then the hue histogram.
 * `channels` >= 3; extra channels are ignored.
 */
export function pixelStats(px: Uint8Array, width: number, height: number, channels: number, hueBins: number): Float64Array {
  const n = width * height;
  const out = new Float64Array(PIXEL_STATS.length + hueBins);
  const luma = new Float32Array(n);
  const lumaHist = new Float64Array(256);
  const hue = new Float64Array(hueBins);
  let sumY = 0;
  let sumYY = 0;
  let sumS = 0;
  let sumRg = 0;
  let sumRgRg = 0;
  let sumYb = 0;
  let sumYbYb = 0;
  for (let i = 0, p = 0; i < n; i++, p += channels) {
    const r = px[p];
    const g = px[p + 1];
    const b = px[p + 2];
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    luma[i] = y;
    sumY += y;
    sumYY += y * y;
    lumaHist[y + 0.5 > 255 ? 255 : (y + 0.5) | 0]++;
    const max = r > g ? (r > b ? r : b) : g > b ? g : b;
    const min = r < g ? (r < b ? r : b) : g < b ? g : b;
    const chroma = max - min;
    const s = chroma * RECIPROCAL[max];
    sumS += s;
    const rg = r - g;
    const yb = 0.5 * (r + g) - b;
    sumRg += rg;
    sumRgRg += rg * rg;
    sumYb += yb;
    sumYbYb += yb * yb;
    if (s > 0.2 && max > 51 && hueBins > 0) {
      let h: number; // hue in [0, 6)
      if (max === r) h = (g - b) / chroma;
      else if (max === g) h = 2 + (b - r) / chroma;
      else h = 4 + (r - g) / chroma;
      if (h < 0) h += 6;
      let bin = Math.floor((h / 6) * hueBins);
      if (bin >= hueBins) bin = hueBins - 1;
      hue[bin]++;
    }
  }
  const meanY = sumY / n;
  const varOf = (s: number, ss: number) => Math.max(0, ss / n - (s / n) ** 2);
  out[0] = meanY / 255;
  out[1] = Math.sqrt(varOf(sumY, sumYY)) / 255;
  out[2] = sumS / n;
  const sdRgYb = Math.sqrt(varOf(sumRg, sumRgRg) + varOf(sumYb, sumYbYb));
  const meanRgYb = Math.sqrt((sumRg / n) ** 2 + (sumYb / n) ** 2);
  out[3] = sdRgYb + 0.3 * meanRgYb;
  let entropy = 0;
  for (let v = 0; v < 256; v++) {
    if (lumaHist[v] === 0) continue;
    const p = lumaHist[v] / n;
    entropy -= p * Math.log2(p);
  }
  out[4] = entropy;
  // Laplacian (4-neighbour) over interior pixels
  let sumL = 0;
  let sumLL = 0;
  let m = 0;
  for (let yy = 1; yy < height - 1; yy++) {
    const row = yy * width;
    for (let xx = 1; xx < width - 1; xx++) {
      const i = row + xx;
      const l = 4 * luma[i] - luma[i - 1] - luma[i + 1] - luma[i - width] - luma[i + width];
      sumL += l;
      sumLL += l * l;
      m++;
    }
  }
  out[5] = m > 0 ? Math.max(0, sumLL / m - (sumL / m) ** 2) : 0;
  for (let k = 0; k < hueBins; k++) out[PIXEL_STATS.length + k] = hue[k] / n;
  return out;
}

interface ImageResult {
  width: number;
  height: number;
  bytes: number;
  stats: Float64Array;
}

async function analyse(file: string, size: number, hueBins: number): Promise<ImageResult> {
  const buf = await fs.promises.readFile(file);
  const meta = await sharp(buf).metadata();
  const { data, info } = await sharp(buf, { autoOrient: true })
    .resize(size, size, { fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels < 3) throw new Error(`decoded to ${info.channels} channel(s)`);
  return {
    width: meta.autoOrient?.width ?? meta.width ?? info.width,
    height: meta.autoOrient?.height ?? meta.height ?? info.height,
    bytes: buf.length,
    stats: pixelStats(data, info.width, info.height, info.channels, hueBins),
  };
}

/** Runs `work(i)` for i in [0, n) with at most `limit` in flight. */
async function pool(n: number, limit: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const runner = async () => {
    while (next < n) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, runner));
}

/** Images per batch of the row-cache loop, and rows per cache shard file. */
const BATCH = 64;
const SHARD_ROWS = 2048;

export const imageStats = defineFeature({
  kind: 'image-stats',
  version: 1,
  summary: 'image size, brightness, contrast, saturation, colourfulness, entropy, sharpness, hue histogram',
  params: z
    .object({
      size: z.number().int().min(16).max(2048).default(128).describe('decode and downscale to fit this box (pixels) before the pixel statistics'),
      hue_bins: z.number().int().min(0).max(64).default(8).describe('hue histogram bins (0: none)'),
      log_sizes: z.boolean().default(true).describe('log1p of width, height and file bytes (they span orders of magnitude)'),
      concurrency: z.number().int().min(1).max(64).default(8).describe('images decoded at a time (sharp decodes on its own threads)'),
    })
    .strict(),
  shardable: true,
  async compute(ctx, params) {
    const { table, log } = ctx;
    if (table.track === 'video') throw new UserError('image-stats reads images; the video track\'s media are videos');
    const sizeNames = ['width', 'height', 'file_bytes'].map((s) => (params.log_sizes ? `log1p_${s}` : s));
    const names = [
      sizeNames[0],
      sizeNames[1],
      'aspect',
      sizeNames[2],
      ...PIXEL_STATS,
      ...Array.from({ length: params.hue_bins }, (_, k) => `hue${k}`),
      'missing',
    ];
    const dim = names.length - 1;
    const size = (x: number) => (params.log_sizes ? Math.log1p(x) : x);
    const failures = new Map<number, string>();
    // Per row through the row cache (as the embedding kinds): a rerun or a run after
    // `smp run --shard i/N` reads what is there and decodes only the rest.
    const res = await extractEmbeddings<BatchOutput>({
      cacheDir: rowCacheDir(ctx.cacheDir, 'image-stats', { size: params.size, hue_bins: params.hue_bins, log_sizes: params.log_sizes, v: 1 }),
      info: { kind: 'image-stats', size: params.size, hue_bins: params.hue_bins, log_sizes: params.log_sizes },
      keys: table.media.map((f, r) => `${table.pid[r]}:${fileKey(f)}`),
      dim,
      stride: names.length,
      normalize: false,
      batchSize: BATCH,
      shardRows: SHARD_ROWS,
      label: 'image-stats',
      log,
      shard: ctx.shard,
      prepare: async (rows) => {
        const data = new Float32Array(rows.length * dim);
        const missing = new Uint8Array(rows.length);
        await pool(rows.length, params.concurrency, async (i) => {
          const file = table.media[rows[i]];
          try {
            if (!file) throw new Error('no image path');
            const res = await analyse(file, params.size, params.hue_bins);
            const o = i * dim;
            data[o] = size(res.width);
            data[o + 1] = size(res.height);
            data[o + 2] = res.height > 0 ? res.width / res.height : NaN;
            data[o + 3] = size(res.bytes);
            for (let j = 0; j < res.stats.length; j++) data[o + 4 + j] = res.stats[j];
          } catch (err) {
            missing[i] = 1;
            if (failures.size < 5) failures.set(rows[i], `${file ?? `row ${rows[i]}`}: ${(err as Error).message.split('\n')[0]}`);
          }
        });
        return { data, missing };
      },
      run: async (batch) => batch,
    });
    // A missing or unreadable image: NaN statistics (the cache loop leaves zeros), missing = 1.
    const out = createMatrix(table.n, names.length, names, undefined, res.data);
    let failed = 0;
    const first: string[] = [];
    for (let r = 0; r < table.n; r++) {
      out.data[r * out.cols + dim] = res.missing[r];
      if (!res.missing[r]) continue;
      out.data.fill(NaN, r * out.cols, r * out.cols + dim);
      failed++;
      if (first.length < 5) first.push(failures.get(r) ?? `${table.media[r] ?? `row ${r}`}: unreadable (cached)`);
    }
    if (failed > 0) {
      log.count('images_corrupt', failed);
      log.warn('image-stats', `${failed} of ${table.n} images missing or unreadable (NaN row, missing=1); first: ${first.join('; ')}`, { images_corrupt: failed });
    }
    return out;
  },
});
