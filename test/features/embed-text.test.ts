/**
 * clip-text and text-embedding on the tiny fixtures: shapes, unit rows, missing flags for posts
 * without text, determinism and cache reuse, truncation that keeps the end token, values that
 * do not depend on the batch, and agreement with transformers.js's own feature-extraction
 * pipeline (mean pooling, normalised).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline, type Tensor } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Table } from '../../core/data/table.ts';
import { UserError } from '../../core/errors.ts';
import { RunLog } from '../../core/report/run-log.ts';
import { clipText } from '../../features/clip-text.ts';
import { textEmbedding } from '../../features/text-embedding.ts';
import { encodeTexts, loadClipText, loadTextEncoder } from '../../features/embed/models.ts';
import { buildTinyModels, TINY_BERT_DIM, TINY_BERT_ID, TINY_CLIP_DIM, TINY_CLIP_ID, TINY_CLIP_MAX_TOKENS } from '../fixtures/tiny-models.ts';
import { featureContext } from '../fixtures/embed-data.ts';

const root = path.resolve('test/.tmp', `embed-text-${process.pid}`);
const modelsDir = path.join(root, 'models');

const TITLES = ['A red photo of my cat', 'blue sunset over the beach', null, 'Street art in the city at night', '', 'yellow food', 'dog'];
const TAGS = [['cat', 'love'], ['beach'], ['city', 'night'], [], [], ['food', 'yellow', 'photo'], []];

function textTable(): Table {
  const n = TITLES.length;
  return {
    track: 'image',
    root,
    n,
    nTrain: 5,
    nTest: 2,
    pid: TITLES.map((_, i) => `t${i}`),
    uid: TITLES.map((_, i) => `u${i % 2}`),
    label: Float64Array.from({ length: n }, (_, i) => (i < 5 ? i : NaN)),
    columns: { title: { type: 'string', values: TITLES }, tags: { type: 'list', values: TAGS }, postdate: { type: 'number', values: new Float64Array(n) } },
    media: TITLES.map(() => null),
    sources: [],
  };
}

beforeAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  buildTinyModels(modelsDir);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function rowNorms(m: { data: Float32Array; cols: number; rows: number }, dim: number): number[] {
  return Array.from({ length: m.rows }, (_, r) => Math.hypot(...m.data.subarray(r * m.cols, r * m.cols + dim)));
}
const flags = (m: { data: Float32Array; cols: number; rows: number }) => Array.from({ length: m.rows }, (_, r) => m.data[r * m.cols + m.cols - 1]);

describe('clip-text', () => {
  it('embeds title, tags or both; empty text is flagged; rerun comes from the cache', async () => {
    const table = textTable();
    const cacheDir = path.join(root, 'cache');
    const log = new RunLog({ quiet: true });
    const title = await clipText.compute(featureContext(table, { cacheDir, modelsDir, log }), clipText.params.parse({ model: TINY_CLIP_ID, field: 'title', batch_size: 3 }));
    expect([title.rows, title.cols]).toEqual([7, TINY_CLIP_DIM + 1]);
    expect(flags(title)).toEqual([0, 0, 1, 0, 1, 0, 0]);
    rowNorms(title, TINY_CLIP_DIM).forEach((v, r) => expect(v).toBeCloseTo(flags(title)[r] ? 0 : 1, 5));
    expect(log.counters['clip-text.missing']).toBe(2);

    const tags = await clipText.compute(featureContext(table, { cacheDir, modelsDir }), clipText.params.parse({ model: TINY_CLIP_ID, field: 'tags' }));
    expect(flags(tags)).toEqual([0, 0, 0, 1, 1, 0, 1]);
    const both = await clipText.compute(featureContext(table, { cacheDir, modelsDir }), clipText.params.parse({ model: TINY_CLIP_ID, field: 'both' }));
    expect(flags(both)).toEqual([0, 0, 0, 0, 1, 0, 0]);
    expect(both.data.subarray(0, TINY_CLIP_DIM)).not.toEqual(title.data.subarray(0, TINY_CLIP_DIM));
    // post 2 has tags only: both == tags
    for (let j = 0; j < TINY_CLIP_DIM; j++) expect(both.data[2 * both.cols + j]).toBeCloseTo(tags.data[2 * tags.cols + j], 6);

    const log2 = new RunLog({ quiet: true });
    const again = await clipText.compute(featureContext(table, { cacheDir, modelsDir, log: log2 }), clipText.params.parse({ model: TINY_CLIP_ID, field: 'title', batch_size: 5 }));
    expect(log2.counters['clip-text.computed']).toBe(0);
    expect(Buffer.from(again.data.buffer).equals(Buffer.from(title.data.buffer))).toBe(true);
  });

  it('truncates to the model length keeping the end token, independent of the batch', async () => {
    const enc = await loadClipText(TINY_CLIP_ID, { modelsDir });
    expect(enc.maxLength).toBe(TINY_CLIP_MAX_TOKENS);
    const long = 'blue sunset over the beach with my dog and my cat on a very long summer day in the city';
    const { input_ids, attention_mask } = encodeTexts(enc.tokenizer, ['red cat', long], enc.maxLength);
    expect(input_ids.dims).toEqual([2, TINY_CLIP_MAX_TOKENS]);
    const ids = input_ids.tolist() as bigint[][];
    const eos = BigInt(enc.tokenizer.encode('')[1]);
    expect(ids[1][0]).toBe(BigInt(enc.tokenizer.encode('')[0])); // start token
    expect(ids[1][TINY_CLIP_MAX_TOKENS - 1]).toBe(eos); // end token kept
    expect((attention_mask.tolist() as bigint[][])[0].filter((v) => v === 1n).length).toBe(enc.tokenizer.encode('red cat').length);
    // the same text alone or beside a long one: same embedding
    const alone = await enc.embed(['red cat']);
    const together = await enc.embed(['red cat', long]);
    for (let j = 0; j < TINY_CLIP_DIM; j++) expect(together[j]).toBeCloseTo(alone[j], 5);
    // text past the limit does not change the embedding
    const [a, b] = [await enc.embed([long]), await enc.embed([`${long} and more words that are cut anyway`])];
    for (let j = 0; j < TINY_CLIP_DIM; j++) expect(a[j]).toBeCloseTo(b[j], 6);
  });
});

describe('text-embedding', () => {
  it('mean-pools and normalises like the transformers.js feature-extraction pipeline', async () => {
    const table = textTable();
    const m = await textEmbedding.compute(featureContext(table, { cacheDir: path.join(root, 'cache-te'), modelsDir }), textEmbedding.params.parse({ model: TINY_BERT_ID, fields: ['title', 'tags'], batch_size: 4 }));
    expect([m.rows, m.cols]).toEqual([7, TINY_BERT_DIM + 1]);
    expect(m.names.at(-1)).toBe('missing');
    expect(flags(m)).toEqual([0, 0, 0, 0, 1, 0, 0]);
    rowNorms(m, TINY_BERT_DIM).forEach((v, r) => expect(v).toBeCloseTo(flags(m)[r] ? 0 : 1, 5));

    const extractor = await pipeline('feature-extraction', TINY_BERT_ID, { local_files_only: true, cache_dir: modelsDir, dtype: 'fp32' });
    const texts = ['A red photo of my cat. cat love', 'blue sunset over the beach. beach', 'city night'];
    const ref = (await extractor(texts, { pooling: 'mean', normalize: true })) as Tensor;
    const refData = ref.data as Float32Array;
    for (let r = 0; r < 3; r++) for (let j = 0; j < TINY_BERT_DIM; j++) expect(m.data[r * m.cols + j]).toBeCloseTo(refData[r * TINY_BERT_DIM + j], 5);
  });

  it('keeps [SEP] when truncating and names the text columns for an unknown field', async () => {
    const enc = await loadTextEncoder(TINY_BERT_ID, { modelsDir });
    const { input_ids } = encodeTexts(enc.tokenizer, ['word '.repeat(100)], 10);
    const ids = (input_ids.tolist() as bigint[][])[0];
    expect(ids.length).toBe(10);
    expect(ids[9]).toBe(BigInt(enc.tokenizer.encode('')[1]));
    const ctx = featureContext(textTable(), { cacheDir: path.join(root, 'cache-x'), modelsDir });
    const bad = textEmbedding.compute(ctx, textEmbedding.params.parse({ model: TINY_BERT_ID, fields: ['caption'] }));
    await expect(bad).rejects.toBeInstanceOf(UserError);
    await expect(textEmbedding.compute(ctx, textEmbedding.params.parse({ model: TINY_BERT_ID, fields: ['caption'] }))).rejects.toThrow('text columns: tags, title');
  });
});
