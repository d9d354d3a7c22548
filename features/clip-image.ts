/**
 * @file `clip-image`: CLIP image embeddings of each post's image (default CLIP ViT-B/32,
 * `Xenova/clip-vit-base-patch32`, 512 floats), L2-normalised, plus a `missing` flag.
 * Images are decoded, oriented and resized with sharp in a pool of worker threads and
 * normalised as the model's preprocessor_config.json says (embed/preprocess.ts), while the
 * previous batch runs through CLIPVisionModelWithProjection. Embeddings are cached per
 * (model, post id + file size and mtime) in .npy shards, so an interrupted extraction resumes
 * and a changed image is recomputed. A post without an image, or with an image that cannot be
 * decoded, gets a zero vector and missing = 1, is counted in the run log
 * (`clip-image.missing`) and never stops the run. Needs the model in the models folder
 * (`smp models fetch Xenova/clip-vit-base-patch32`).
 *
 * @example
 *   - id: clipimg
 *     kind: clip-image
 *     params: { model: Xenova/clip-vit-base-patch32, batch_size: 32, workers: 2 }
 */
import fs from 'node:fs';
import { z } from 'zod';
import { defineFeature } from './feature.ts';
import { ImagePool, type Preprocessed } from './embed/image-pool.ts';
import { DEFAULT_CLIP_MODEL, loadClipVision } from './embed/models.ts';
import { extractEmbeddings } from './embed/extract.ts';
import { embeddingBlock, fileKey, modelRuntime, reportMissing, rowCacheDir, runParams, modelNeeds } from './embed/common.ts';
import { pixelCount } from './embed/preprocess.ts';

const params = z
  .object({
    model: z.string().default(DEFAULT_CLIP_MODEL).describe('CLIP model id in the models folder (vision tower onnx/vision_model.onnx)'),
    workers: z.number().int().min(0).max(64).default(2).describe('worker threads decoding and resizing images (0 = main thread)'),
    ...runParams,
  })
  .strict();

/** Images per worker task; several tasks per batch spread one batch over the workers. */
function chunks(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  const size = Math.ceil(n / Math.max(1, parts));
  for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
  return out;
}

export const clipImage = defineFeature({
  kind: 'clip-image',
  version: 1,
  summary: 'CLIP image embedding per post (L2-normalised) + missing flag; worker-pool decoding, cached per row',
  params,
  models: (p) => modelNeeds(p, ['clip-vision']),
  shardable: true,
  async compute(ctx, p) {
    const { table, log } = ctx;
    const rt = await modelRuntime(ctx, p);
    const vision = await loadClipVision(p.model, rt.load);
    const per = pixelCount(vision.spec);
    const keys = table.media.map((f, r) => `${table.pid[r]}:${fileKey(f)}`);
    const pool = new ImagePool(p.workers);
    try {
      const res = await extractEmbeddings<Preprocessed>({
        cacheDir: rowCacheDir(ctx.cacheDir, 'clip-image', { model: p.model, dtype: p.dtype, fingerprint: vision.fingerprint, spec: vision.spec, v: 1 }),
        info: { kind: 'clip-image', model: p.model, dtype: p.dtype, fingerprint: vision.fingerprint, spec: vision.spec },
        keys,
        dim: vision.dim,
        stride: vision.dim + 1,
        batchSize: rt.batchSize,
        shardRows: p.shard_rows,
        prefetch: Math.max(2, p.workers + 1),
        label: 'clip-image',
        shard: ctx.shard,
        log,
        prepare: async (rows) => {
          const files = rows.map((r) => table.media[r]);
          if (p.workers <= 1) return pool.preprocess(files, vision.spec);
          // split the batch so every worker decodes part of it
          const parts = await Promise.all(chunks(files.length, p.workers).map(([s, e]) => pool.preprocess(files.slice(s, e), vision.spec)));
          const data = new Float32Array(files.length * per);
          const ok = new Uint8Array(files.length);
          let at = 0;
          for (const part of parts) {
            data.set(part.data, at * per);
            ok.set(part.ok, at);
            at += part.ok.length;
          }
          return { data, ok };
        },
        run: async ({ data, ok }, rows) => {
          const out = new Float32Array(rows.length * vision.dim);
          const missing = new Uint8Array(rows.length);
          const good: number[] = [];
          ok.forEach((v, i) => (v ? good.push(i) : (missing[i] = 1)));
          if (good.length === 0) return { data: out, missing };
          let pixels = data;
          if (good.length < rows.length) {
            pixels = new Float32Array(good.length * per);
            good.forEach((i, k) => pixels.set(data.subarray(i * per, (i + 1) * per), k * per));
          }
          const emb = await vision.embed(pixels, good.length);
          good.forEach((i, k) => out.set(emb.subarray(k * vision.dim, (k + 1) * vision.dim), i * vision.dim));
          return { data: out, missing };
        },
      });
      reportMissing(log, 'clip-image', res.missing, (r) => {
        const f = table.media[r];
        return `${table.pid[r]} (${f === null ? 'no image' : `${fs.existsSync(f) ? 'unreadable' : 'not found'}: ${f}`})`;
      });
      return embeddingBlock(res.data, res.missing, vision.dim);
    } finally {
      await pool.close();
    }
  },
});
