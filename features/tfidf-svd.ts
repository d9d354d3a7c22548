/**
 * @file `tfidf-svd`: TF-IDF of text fields reduced by truncated SVD (latent semantic analysis),
 * as the 2025 video winner did for post content and suggested words. Text fields are tokenised
 * into lower-case word n-grams; list fields (tags) use each item as one token. Fitted on train
 * and test rows together (no labels involved).
 *
 * @example
 *   - id: tfidf
 *     kind: tfidf-svd
 *     params: { fields: [title, tags], components: 20, ngram: [1, 2] }
 */
import { z } from 'zod';
import { createMatrix, hconcat, type Matrix } from '../core/matrix.ts';
import { randomizedSvd, type LinearOperator } from '../core/linalg/randomized-svd.ts';
import type { Table } from '../core/data/table.ts';
import type { Random } from '../core/random.ts';
import { UserError } from '../core/errors.ts';
import { defineFeature } from './feature.ts';
import { asStrings } from './column-values.ts';

interface SparseRows {
  ptr: Int32Array;
  idx: Int32Array;
  val: Float64Array;
  cols: number;
}

function tokens(table: Table, field: string, ngram: readonly [number, number]): string[][] {
  const col = table.columns[field];
  if (col?.type === 'list') return col.values.map((l) => l.map((t) => t.toLowerCase()));
  return asStrings(table, field).map((s) => {
    const words = (s ?? '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    const out: string[] = [];
    for (let n = ngram[0]; n <= ngram[1]; n++) for (let i = 0; i + n <= words.length; i++) out.push(words.slice(i, i + n).join(' '));
    return out;
  });
}

function tfidf(docs: string[][], minDf: number, maxFeatures: number): SparseRows {
  const df = new Map<string, number>();
  for (const d of docs) for (const t of new Set(d)) df.set(t, (df.get(t) ?? 0) + 1);
  const vocab = [...df.entries()]
    .filter(([, c]) => c >= minDf)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, maxFeatures);
  const index = new Map(vocab.map(([t], i) => [t, i]));
  const idf = vocab.map(([, c]) => Math.log((1 + docs.length) / (1 + c)) + 1);
  const ptr = new Int32Array(docs.length + 1);
  const idx: number[] = [];
  const val: number[] = [];
  docs.forEach((d, r) => {
    const tf = new Map<number, number>();
    for (const t of d) {
      const j = index.get(t);
      if (j !== undefined) tf.set(j, (tf.get(j) ?? 0) + 1);
    }
    const entries = [...tf.entries()].sort((a, b) => a[0] - b[0]);
    const w = entries.map(([j, c]) => (1 + Math.log(c)) * idf[j]);
    const norm = Math.sqrt(w.reduce((s, x) => s + x * x, 0)) || 1;
    entries.forEach(([j], e) => {
      idx.push(j);
      val.push(w[e] / norm);
    });
    ptr[r + 1] = idx.length;
  });
  return { ptr, idx: Int32Array.from(idx), val: Float64Array.from(val), cols: vocab.length };
}

function operator(a: SparseRows): LinearOperator {
  const rows = a.ptr.length - 1;
  return {
    rows,
    cols: a.cols,
    mul(x, l) {
      const out = new Float64Array(rows * l);
      for (let r = 0; r < rows; r++)
        for (let e = a.ptr[r]; e < a.ptr[r + 1]; e++) {
          const v = a.val[e];
          const base = a.idx[e] * l;
          for (let j = 0; j < l; j++) out[r * l + j] += v * x[base + j];
        }
      return out;
    },
    mulT(y, l) {
      const out = new Float64Array(a.cols * l);
      for (let r = 0; r < rows; r++)
        for (let e = a.ptr[r]; e < a.ptr[r + 1]; e++) {
          const v = a.val[e];
          const base = a.idx[e] * l;
          for (let j = 0; j < l; j++) out[base + j] += v * y[r * l + j];
        }
      return out;
    },
  };
}

async function fieldBlock(table: Table, docs: string[][], name: string, components: number, minDf: number, maxFeatures: number, rng: Random): Promise<Matrix> {
  const a = tfidf(docs, minDf, maxFeatures);
  const names = Array.from({ length: components }, (_, k) => `${name}_svd${k}`);
  const m = createMatrix(table.n, components, names);
  if (a.cols === 0) return m; // no term frequent enough: zeros, not an error
  const { embedding, k } = await randomizedSvd(operator(a), components, rng);
  for (let r = 0; r < table.n; r++) for (let c = 0; c < k; c++) m.data[r * components + c] = embedding[r * k + c];
  return m;
}

export const tfidfSvd = defineFeature({
  kind: 'tfidf-svd',
  version: 2, // 2: the randomized SVD orthonormalises by Cholesky QR (values move in the last float32 bits)
  random: true,
  summary: 'TF-IDF of text/tag fields reduced to a few components by truncated SVD',
  params: z
    .object({
      fields: z.array(z.string()).default(['title', 'tags']).describe('text or list columns (title, tags, suggested_words, ...)'),
      separate: z.boolean().default(true).describe('one SVD per field (true) or one over the fields joined'),
      components: z.number().int().min(1).max(512).default(20).describe('SVD components per block'),
      ngram: z.tuple([z.number().int().min(1), z.number().int().min(1)]).default([1, 2]).describe('word n-gram range for text fields'),
      min_df: z.number().int().min(1).default(2).describe('ignore terms in fewer posts'),
      max_features: z.number().int().min(1).default(20000).describe('keep the most frequent terms'),
    })
    .strict(),
  async compute({ table, rng }, params) {
    const perField = params.fields.map((f) => {
      if (!(f in table.columns)) throw new UserError(`tfidf-svd: dataset has no column "${f}"; available: ${Object.keys(table.columns).sort().join(', ')}`);
      return tokens(table, f, params.ngram);
    });
    if (params.separate) {
      const blocks: Matrix[] = [];
      for (const [i, f] of params.fields.entries())
        blocks.push(await fieldBlock(table, perField[i], f, params.components, params.min_df, params.max_features, rng.fork(f)));
      return hconcat(blocks);
    }
    const joined = perField[0].map((_, r) => perField.flatMap((d) => d[r]));
    return fieldBlock(table, joined, params.fields.join('_'), params.components, params.min_df, params.max_features, rng);
  },
});

