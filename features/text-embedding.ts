/**
 * @file `text-embedding`: sentence embeddings from any feature-extraction model (default
 * `Xenova/all-MiniLM-L6-v2`, 384 floats) of one or more text columns (string or list columns,
 * joined by `separator`), mean-pooled over the tokens (attention mask) and L2-normalised, as
 * sentence-transformers does, plus a `missing` flag for posts with no text. Texts are cut to the
 * model's token limit with the special tokens kept. Cached per (model, fields, post id + text
 * hash) in .npy shards like clip-image.
 *
 * @example
 *   - id: minilm
 *     kind: text-embedding
 *     params: { model: Xenova/all-MiniLM-L6-v2, fields: [title, tags] }
 */
import { z } from 'zod';
import { defineFeature } from './feature.ts';
import { DEFAULT_TEXT_MODEL, loadTextEncoder } from './embed/models.ts';
import { modelRuntime, runParams, textColumn, modelNeeds } from './embed/common.ts';
import { textEmbeddingBlock } from './clip-text.ts';

const params = z
  .object({
    model: z.string().default(DEFAULT_TEXT_MODEL).describe('feature-extraction model id in the models folder (onnx/model.onnx)'),
    fields: z.array(z.string()).min(1).default(['title']).describe('text columns to embed (string or list columns such as title, tags, user_description)'),
    separator: z.string().default('. ').describe('placed between the fields of one post'),
    max_length: z.number().int().min(2).optional().describe("token limit (default and upper bound: the model's own)"),
    ...runParams,
  })
  .strict();

export const textEmbedding = defineFeature({
  kind: 'text-embedding',
  version: 1,
  summary: 'sentence embedding (mean pooling, L2-normalised) of text columns with any feature-extraction model + missing flag',
  params,
  models: (p) => modelNeeds(p, ['feature-extraction']),
  shardable: true,
  async compute(ctx, p) {
    const { table } = ctx;
    const rt = await modelRuntime(ctx, p);
    const enc = await loadTextEncoder(p.model, rt.load);
    const maxLength = Math.min(p.max_length ?? enc.maxLength, enc.maxLength);
    const cols = p.fields.map((f) => textColumn(table, f, 'text-embedding'));
    const texts = Array.from({ length: table.n }, (_, r) =>
      cols
        .map((c) => c[r].trim())
        .filter(Boolean)
        .join(p.separator),
    );
    return textEmbeddingBlock(ctx, 'text-embedding', { ...p, batch_size: rt.batchSize }, enc, maxLength, texts, (r) => `${table.pid[r]} (no ${p.fields.join('/')})`);
  },
});
