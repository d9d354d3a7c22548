/**
 * @file `video-frames`: CLIP image embeddings of `frames` frames sampled uniformly over each
 * post's video (at (k + 0.5) / frames of its duration, decoded by ffmpeg), each frame
 * L2-normalised, then pooled over the frames: `mean` (re-normalised) and/or `max` (element-wise),
 * plus a `missing` flag. A post without a video, or whose video ffmpeg cannot read, gets zeros
 * and missing = 1, is counted in the run log (`video-frames.missing`) and never stops the run.
 * Frames use the model's CLIP preprocessing (embed/preprocess.ts); embeddings are cached per
 * (model, frames, post id + file size and mtime) in .npy shards like clip-image.
 *
 * @example
 *   - id: vframes
 *     kind: video-frames
 *     params: { frames: 8, pooling: [mean, max], workers: 2 }
 */
import fs from 'node:fs';
import { z } from 'zod';
import { defineFeature } from './feature.ts';
import { DEFAULT_CLIP_MODEL, loadClipVision } from './embed/models.ts';
import { extractEmbeddings, l2normalize } from './embed/extract.ts';
import { embeddingBlock, fileKey, modelRuntime, reportMissing, rowCacheDir, runParams, modelNeeds } from './embed/common.ts';
import { pixelCount, preprocessRaw } from './embed/preprocess.ts';
import { checkFfmpeg, sampleFrames } from './embed/video.ts';

const params = z
  .object({
    model: z.string().default(DEFAULT_CLIP_MODEL).describe('CLIP model id in the models folder (vision tower)'),
    frames: z.number().int().min(1).max(256).default(8).describe('frames sampled uniformly over each video'),
    pooling: z.array(z.enum(['mean', 'max'])).min(1).default(['mean', 'max']).describe('how frame embeddings are pooled per video: mean (re-normalised), max (element-wise)'),
    workers: z.number().int().min(1).max(64).default(2).describe('videos decoded at once (ffmpeg processes)'),
    ...runParams,
    batch_size: z.number().int().min(1).max(1024).default(8).describe('videos per batch (frames x batch_size images per model call at most)'),
    cuda_batch_size: z.number().int().min(1).max(1024).default(32).describe('videos per batch on cuda'),
  })
  .strict();

interface VideoBatch {
  /** frames of every video of the batch, back to back */
  pixels: Float32Array;
  counts: number[];
}

export const videoFrames = defineFeature({
  kind: 'video-frames',
  version: 1,
  summary: 'CLIP embeddings of N uniformly sampled video frames (ffmpeg), mean/max pooled + missing flag; cached per row',
  params,
  models: (p) => modelNeeds(p, ['clip-vision']),
  shardable: true,
  async compute(ctx, p) {
    const { table, log } = ctx;
    checkFfmpeg();
    const rt = await modelRuntime(ctx, p);
    const vision = await loadClipVision(p.model, rt.load);
    const d = vision.dim;
    const per = pixelCount(vision.spec);
    const dim = d * p.pooling.length;
    const res = await extractEmbeddings<VideoBatch>({
      cacheDir: rowCacheDir(ctx.cacheDir, 'video-frames', { model: p.model, dtype: p.dtype, fingerprint: vision.fingerprint, spec: vision.spec, frames: p.frames, pooling: p.pooling, v: 1 }),
      info: { kind: 'video-frames', model: p.model, frames: p.frames, pooling: p.pooling, fingerprint: vision.fingerprint },
      keys: table.media.map((f, r) => `${table.pid[r]}:${fileKey(f)}`),
      dim,
      stride: dim + 1,
      normalize: false,
      batchSize: rt.batchSize,
      shardRows: p.shard_rows,
      label: 'video-frames',
      shard: ctx.shard,
      log,
      prepare: async (rows) => {
        const perVideo: Float32Array[] = new Array(rows.length);
        let next = 0;
        const work = async () => {
          while (next < rows.length) {
            const i = next++;
            const frames = await sampleFrames(table.media[rows[i]], p.frames);
            const px = new Float32Array(frames.length * per);
            let k = 0;
            for (const f of frames) {
              try {
                await preprocessRaw(f.rgb, f.width, f.height, vision.spec, px, k * per);
                k++;
              } catch {
                // a frame sharp cannot take is skipped
              }
            }
            perVideo[i] = px.subarray(0, k * per);
          }
        };
        await Promise.all(Array.from({ length: Math.min(p.workers, rows.length) }, work));
        const counts = perVideo.map((v) => v.length / per);
        const pixels = new Float32Array(counts.reduce((a, b) => a + b, 0) * per);
        let at = 0;
        for (const v of perVideo) {
          pixels.set(v, at);
          at += v.length;
        }
        return { pixels, counts };
      },
      run: async ({ pixels, counts }, rows) => {
        const total = counts.reduce((a, b) => a + b, 0);
        const emb = new Float32Array(total * d);
        const CHUNK = 64;
        for (let s = 0; s < total; s += CHUNK) {
          const m = Math.min(CHUNK, total - s);
          emb.set(await vision.embed(pixels.subarray(s * per, (s + m) * per), m), s * d);
        }
        l2normalize(emb, d);
        const out = new Float32Array(rows.length * dim);
        const missing = new Uint8Array(rows.length);
        let f0 = 0;
        counts.forEach((c, i) => {
          if (c === 0) {
            missing[i] = 1;
            return;
          }
          const mean = new Float32Array(d);
          const max = new Float32Array(d).fill(-Infinity);
          for (let f = f0; f < f0 + c; f++)
            for (let j = 0; j < d; j++) {
              const x = emb[f * d + j];
              mean[j] += x / c;
              if (x > max[j]) max[j] = x;
            }
          l2normalize(mean, d);
          p.pooling.forEach((kind, q) => out.set(kind === 'mean' ? mean : max, i * dim + q * d));
          f0 += c;
        });
        return { data: out, missing };
      },
    });
    reportMissing(log, 'video-frames', res.missing, (r) => {
      const f = table.media[r];
      return `${table.pid[r]} (${f === null ? 'no video' : `${fs.existsSync(f) ? 'unreadable or no frames' : 'not found'}: ${f}`})`;
    });
    return embeddingBlock(res.data, res.missing, dim, p.pooling.flatMap((kind) => Array.from({ length: d }, (_, j) => `${kind}_${j}`)));
  },
});
