/**
 * @file `clip-text`: CLIP text embeddings (default CLIP ViT-B/32's text tower,
 * `Xenova/clip-vit-base-patch32`, 512 floats, in the same space as `clip-image`) of a post's
 * title, its tags (joined by spaces) or both (title, then tags), cut to the model's token limit
 * (77 for CLIP; the end token is kept), L2-normalised, plus a `missing` flag for posts with
 * no text. Cached per (model, field, post id + text hash) in .npy shards like clip-image.
 *
 * @example
 *   - id: cliptitle
 *     kind: clip-text
 *     params: { field: title }
 *   - id: cliptags
 *     kind: clip-text
 *     params: { field: tags }
 */
import { z } from 'zod';
import { defineFeature, type FeatureContext } from './feature.ts';
import { DEFAULT_CLIP_MODEL, loadClipText } from './embed/models.ts';
import { extractEmbeddings } from './embed/extract.ts';
import { embeddingBlock, modelRuntime, reportMissing, rowCacheDir, runParams, textColumn, textKey, modelNeeds } from './embed/common.ts';

const params = z
  .object({
    model: z.string().default(DEFAULT_CLIP_MODEL).describe('CLIP model id in the models folder (text tower onnx/text_model.onnx)'),
    field: z.enum(['title', 'tags', 'both']).default('title').describe('text to embed: the title, the tags joined by spaces, or the title followed by the tags'),
    max_length: z.number().int().min(2).optional().describe("token limit (default and upper bound: the model's own, 77 for CLIP)"),
    ...runParams,
  })
  .strict();

export function postTexts(table: Parameters<typeof textColumn>[0], field: 'title' | 'tags' | 'both', kind: string): string[] {
  const title = field === 'tags' ? null : textColumn(table, 'title', kind);
  const tags = field === 'title' ? null : textColumn(table, 'tags', kind);
  return Array.from({ length: table.n }, (_, r) => [title?.[r], tags?.[r]].filter((s) => s && s.trim()).join(' ').trim());
}

export const clipText = defineFeature({
  kind: 'clip-text',
  version: 1,
  summary: 'CLIP text embedding of title, tags or both (L2-normalised) + missing flag; cached per row',
  params,
  models: (p) => modelNeeds(p, ['clip-text']),
  shardable: true,
  async compute(ctx, p) {
    const { table } = ctx;
    const rt = await modelRuntime(ctx, p);
    const enc = await loadClipText(p.model, rt.load);
    const maxLength = Math.min(p.max_length ?? enc.maxLength, enc.maxLength);
    const texts = postTexts(table, p.field, 'clip-text');
    return textEmbeddingBlock(ctx, 'clip-text', { ...p, batch_size: rt.batchSize }, enc, maxLength, texts, (r) => `${table.pid[r]} (empty ${p.field})`);
  },
});

/**
 * Embeds one text per row through the row cache (clip-text, text-embedding): cached rows are
 * read back, the rest computed in batches; empty texts are flagged missing and reported.
 */
export async function textEmbeddingBlock(
  ctx: FeatureContext,
  kind: string,
  p: { model: string; dtype: string; batch_size: number; shard_rows: number },
  enc: { dim: number; fingerprint: string; embed: (texts: string[], maxLength: number) => Promise<Float32Array> },
  maxLength: number,
  texts: readonly string[],
  describeMissing: (row: number) => string,
) {
  const { table, log } = ctx;
  const res = await extractEmbeddings<string[]>({
    cacheDir: rowCacheDir(ctx.cacheDir, kind, { model: p.model, dtype: p.dtype, fingerprint: enc.fingerprint, maxLength, v: 1 }),
    info: { kind, model: p.model, dtype: p.dtype, fingerprint: enc.fingerprint, maxLength },
    keys: texts.map((t, r) => `${table.pid[r]}:${textKey(t)}`),
    dim: enc.dim,
    stride: enc.dim + 1,
    batchSize: p.batch_size,
    shardRows: p.shard_rows,
    label: kind,
    log,
    shard: ctx.shard,
    prepare: async (rows) => rows.map((r) => texts[r]),
    run: async (batch) => embedTexts(batch, enc.dim, (t) => enc.embed(t, maxLength)),
  });
  reportMissing(log, kind, res.missing, describeMissing);
  return embeddingBlock(res.data, res.missing, enc.dim);
}

/** Embeds the non-empty texts of a batch; empty ones are flagged missing with a zero vector. */
export async function embedTexts(batch: readonly string[], dim: number, embed: (texts: string[]) => Promise<Float32Array>) {
  const out = new Float32Array(batch.length * dim);
  const missing = new Uint8Array(batch.length);
  const good: number[] = [];
  batch.forEach((t, i) => (t ? good.push(i) : (missing[i] = 1)));
  if (good.length) {
    const emb = await embed(good.map((i) => batch[i]));
    good.forEach((i, k) => out.set(emb.subarray(k * dim, (k + 1) * dim), i * dim));
  }
  return { data: out, missing };
}
