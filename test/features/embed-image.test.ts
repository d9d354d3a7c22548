/**
 * clip-image on the tiny CLIP fixture: one row per post, unit-length rows, a zero vector and
 * missing = 1 (and a run-log count) for corrupt, absent and image-less posts, the same floats
 * whatever the worker count and batch size, the rerun served from the row cache; and the
 * kit's own CLIP preprocessing against transformers.js's AutoProcessor.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { AutoProcessor, CLIPImageProcessor, RawImage, type Tensor } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Table } from '../../core/data/table.ts';
import { RunLog } from '../../core/report/run-log.ts';
import { Random } from '../../core/random.ts';
import { clipImage } from '../../features/clip-image.ts';
import { loadClipVision } from '../../features/embed/models.ts';
import { clipImageSpec, cropNormalize, pixelCount, preprocessInto } from '../../features/embed/preprocess.ts';
import { buildTinyModels, CLIP_MEAN, CLIP_STD, TINY_CLIP_CROP, TINY_CLIP_DIM, TINY_CLIP_ID } from '../fixtures/tiny-models.ts';
import { drawImage, featureContext, imagePosts } from '../fixtures/embed-data.ts';

const root = path.resolve('test/.tmp', `embed-image-${process.pid}`);
const modelsDir = path.join(root, 'models');
let table: Table;

beforeAll(async () => {
  fs.rmSync(root, { recursive: true, force: true });
  buildTinyModels(modelsDir);
  const t = await imagePosts(path.join(root, 'data'), 24, { seed: 3, corrupt: [3], absent: [5] });
  const media = [...t.media];
  media[8] = null; // a post without an image
  table = { ...t, media };
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function norm(m: { data: Float32Array; cols: number }, r: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += m.data[r * m.cols + j] ** 2;
  return Math.sqrt(s);
}

describe('clip-image', () => {
  it('embeds every post, flags unreadable ones, and gives the same floats for any workers/batch size', async () => {
    const log = new RunLog({ quiet: true });
    const cacheA = path.join(root, 'cache-a');
    const ctx = featureContext(table, { cacheDir: cacheA, modelsDir, log });
    const a = await clipImage.compute(ctx, clipImage.params.parse({ model: TINY_CLIP_ID, workers: 2, batch_size: 5, shard_rows: 8 }));
    expect([a.rows, a.cols]).toEqual([24, TINY_CLIP_DIM + 1]);
    expect(a.names).toEqual([...Array.from({ length: TINY_CLIP_DIM }, (_, j) => `emb_${j}`), 'missing']);
    const flagged = Array.from({ length: 24 }, (_, r) => a.data[r * a.cols + TINY_CLIP_DIM]);
    expect(flagged.flatMap((f, r) => (f ? [r] : []))).toEqual([3, 5, 8]);
    for (let r = 0; r < 24; r++) expect(norm(a, r, TINY_CLIP_DIM)).toBeCloseTo(flagged[r] ? 0 : 1, 5);
    expect(log.counters['clip-image.missing']).toBe(3);
    expect(log.counters['clip-image.computed']).toBe(24);
    // distinct images give distinct embeddings
    expect(a.data.subarray(0, TINY_CLIP_DIM)).not.toEqual(a.data.subarray(a.cols, a.cols + TINY_CLIP_DIM));

    // main-thread decoding, another batch size, a fresh cache: the same values
    const b = await clipImage.compute(featureContext(table, { cacheDir: path.join(root, 'cache-b'), modelsDir }), clipImage.params.parse({ model: TINY_CLIP_ID, workers: 0, batch_size: 7 }));
    for (let i = 0; i < a.data.length; i++) expect(Math.abs(a.data[i] - b.data[i])).toBeLessThan(1e-6);

    // rerun on the first cache: nothing computed, identical bytes
    const log2 = new RunLog({ quiet: true });
    const c = await clipImage.compute(featureContext(table, { cacheDir: cacheA, modelsDir, log: log2 }), clipImage.params.parse({ model: TINY_CLIP_ID, workers: 2, batch_size: 5, shard_rows: 8 }));
    expect(log2.counters['clip-image.computed']).toBe(0);
    expect(log2.counters['clip-image.cached']).toBe(24);
    expect(Buffer.from(c.data.buffer).equals(Buffer.from(a.data.buffer))).toBe(true);
    const shards = fs.readdirSync(path.join(cacheA, 'embed')).flatMap((d) => fs.readdirSync(path.join(cacheA, 'embed', d))).filter((f) => f.endsWith('.npy'));
    expect(shards.length).toBe(3); // 24 rows, batches of 5, a shard once >= 8 rows are pending: 10 + 10 + 4
  });

  it('a changed image file is recomputed, the others come from the cache', async () => {
    const cacheDir = path.join(root, 'cache-change');
    const params = clipImage.params.parse({ model: TINY_CLIP_ID, workers: 1, batch_size: 8 });
    await clipImage.compute(featureContext(table, { cacheDir, modelsDir }), params);
    await drawImage(table.media[0]!, 50, 70, new Random(99), 'jpeg');
    fs.utimesSync(table.media[0]!, new Date(), new Date(Date.now() + 5000));
    const log = new RunLog({ quiet: true });
    await clipImage.compute(featureContext(table, { cacheDir, modelsDir, log }), params);
    expect(log.counters['clip-image.computed']).toBe(1);
    expect(log.counters['clip-image.cached']).toBe(23);
  });
});

describe('CLIP preprocessing', () => {
  it('reads sizes, crop, resample and mean/std from preprocessor_config.json', () => {
    const spec = clipImageSpec(JSON.parse(fs.readFileSync(path.join(modelsDir, TINY_CLIP_ID, 'preprocessor_config.json'), 'utf8')));
    expect(spec).toEqual({ shortestEdge: 40, cropWidth: 32, cropHeight: 32, kernel: 'cubic', rescale: 1 / 255, mean: CLIP_MEAN, std: CLIP_STD });
    // the real ViT-B/32 config uses plain integers
    const real = clipImageSpec({ crop_size: 224, do_center_crop: true, do_normalize: true, do_resize: true, image_mean: CLIP_MEAN, image_std: CLIP_STD, resample: 3, size: 224 });
    expect([real.shortestEdge, real.cropWidth, real.cropHeight]).toEqual([224, 224, 224]);
    expect(() => clipImageSpec({ size: { longest_edge: 3 }, do_resize: true })).toThrow(/unsupported size/);
  });

  it('matches AutoProcessor exactly without resizing, and closely with resizing and EXIF rotation', async () => {
    const processor = await AutoProcessor.from_pretrained(TINY_CLIP_ID, { local_files_only: true, cache_dir: modelsDir });
    const vision = await loadClipVision(TINY_CLIP_ID, { modelsDir });
    const spec = vision.spec;
    const per = pixelCount(spec);
    const dir = path.join(root, 'pre');
    const cases: [string, number, number, number?][] = [
      ['exact.png', 40, 40], // already the resize target: only crop + normalise
      ['wide.jpg', 160, 90],
      ['tall.png', 50, 130],
      ['small.jpg', 20, 28], // upscaled
      ['rotated.jpg', 90, 60, 6], // EXIF orientation 6: displayed 60 x 90
    ];
    for (const [name, w, h, orientation] of cases) {
      const file = path.join(dir, name);
      await drawImage(file, w, h, new Random(w * 1000 + h), name.endsWith('.png') ? 'png' : 'jpeg');
      if (orientation) {
        const buf = await sharp(file).withMetadata({ orientation }).jpeg().toBuffer();
        fs.writeFileSync(file, buf);
      }
      const ours = new Float32Array(per);
      expect(await preprocessInto(file, spec, ours)).toBe(true);
      const theirs = ((await processor(await RawImage.read(file))) as { pixel_values: Tensor }).pixel_values;
      expect(theirs.dims).toEqual([1, 3, TINY_CLIP_CROP, TINY_CLIP_CROP]);
      const t = theirs.data as Float32Array;
      let mad = 0;
      let max = 0;
      for (let i = 0; i < per; i++) {
        const d = Math.abs(ours[i] - t[i]);
        mad += d / per;
        max = Math.max(max, d);
      }
      if (name === 'exact.png') expect(max).toBeLessThan(1e-5);
      // Downscaling: sharp's antialiased bicubic (ours, as PIL) vs transformers.js's affine bicubic
      // differ by about one grey level. Upscaling: vips affine maps pixel corners, not centres,
      // so transformers.js's output is shifted by a fraction of a pixel; larger, still small.
      else expect(mad, name).toBeLessThan(w < 40 || h < 40 ? 0.15 : 0.03);
      // and the model sees nearly the same image
      const [e1, e2] = [await vision.embed(ours, 1), await vision.embed(Float32Array.from(t), 1)];
      let dot = 0, n1 = 0, n2 = 0;
      for (let j = 0; j < e1.length; j++) (dot += e1[j] * e2[j]), (n1 += e1[j] ** 2), (n2 += e2[j] ** 2);
      expect(dot / Math.sqrt(n1 * n2), name).toBeGreaterThan(w < 40 || h < 40 ? 0.8 : 0.99);
    }
  });

  it('centre-crops and zero-pads as transformers.js does', async () => {
    // 20 x 27 image, crop 32: padded on every side (before normalisation, so pads are -mean/std)
    const w = 20, h = 27;
    const rgb = new Uint8Array(w * h * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37) % 251;
    const cfg = { do_resize: false, do_center_crop: true, crop_size: { width: 32, height: 32 }, do_normalize: true, image_mean: CLIP_MEAN, image_std: CLIP_STD };
    const spec = clipImageSpec(cfg);
    const ours = new Float32Array(pixelCount(spec));
    cropNormalize(rgb, w, h, spec, ours);
    const proc = new CLIPImageProcessor(cfg as never);
    const theirs = (await proc(new RawImage(new Uint8ClampedArray(rgb), w, h, 3))).pixel_values.data as Float32Array;
    for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i] - theirs[i])).toBeLessThan(1e-5);
    // cropping an odd excess: 45 x 38 -> 32 x 32
    const w2 = 45, h2 = 38;
    const rgb2 = new Uint8Array(w2 * h2 * 3).map((_, i) => (i * 13) % 256);
    const ours2 = new Float32Array(pixelCount(spec));
    cropNormalize(rgb2, w2, h2, spec, ours2);
    const theirs2 = (await proc(new RawImage(new Uint8ClampedArray(rgb2), w2, h2, 3))).pixel_values.data as Float32Array;
    for (let i = 0; i < ours2.length; i++) expect(Math.abs(ours2[i] - theirs2[i])).toBeLessThan(1e-5);
  });
});
