/**
 * @file `text-stats`: how much text a post carries. Per text field (default the title): length
 * in characters and words, share of upper-case letters, digits, and whether it is empty; tag
 * count and mean tag length, suggested-word count (video track).
 *
 * @example
 *   - id: text
 *     kind: text-stats
 *     params: { fields: [title, description], tags: null }
 */
import { z } from 'zod';
import { fromColumns } from '../core/matrix.ts';
import { defineFeature } from './feature.ts';
import { UserError } from '../core/errors.ts';
import { asList, asStrings, hasColumn } from './column-values.ts';

export const textStats = defineFeature({
  kind: 'text-stats',
  version: 1,
  summary: 'text length, word and tag counts, suggested-word count, case and digit shares',
  params: z
    .object({
      fields: z.array(z.string()).min(1).default(['title']).describe('text columns measured (columns <field>_chars, _words, _empty, _upper_share, _digits)'),
      tags: z.string().nullable().default('tags').describe('list column counted as tags (tag_count, tag_mean_len); null: none'),
    })
    .strict(),
  compute({ table }, params) {
    const n = table.n;
    const out: Record<string, Float32Array> = {};
    for (const field of params.fields) {
      // A table names its columns: a typo is an error there (SMP readers may lack the title).
      if (table.track === 'table' && !hasColumn(table, field)) throw new UserError(`text-stats: dataset has no column "${field}"; available: ${Object.keys(table.columns).sort().join(', ')}`);
      const text = asStrings(table, field);
      const cols = ['chars', 'words', 'empty', 'upper_share', 'digits'].map((s) => (out[`${field}_${s}`] = new Float32Array(n)));
      for (let i = 0; i < n; i++) {
        const t = text[i] ?? '';
        const letters = t.match(/\p{L}/gu)?.length ?? 0;
        cols[0][i] = [...t].length;
        cols[1][i] = t.split(/\s+/).filter(Boolean).length;
        cols[2][i] = t.trim() ? 0 : 1;
        cols[3][i] = letters ? (t.match(/\p{Lu}/gu)?.length ?? 0) / letters : 0;
        cols[4][i] = t.match(/\p{N}/gu)?.length ?? 0;
      }
    }
    const tagField = params.tags !== null && (hasColumn(table, params.tags) || table.track !== 'table') ? params.tags : null;
    if (tagField !== null) {
      const tags = asList(table, tagField);
      out.tag_count = Float32Array.from(tags, (l) => l.length);
      out.tag_mean_len = Float32Array.from(tags, (l) => (l.length ? l.reduce((s, x) => s + x.length, 0) / l.length : 0));
    }
    if (hasColumn(table, 'suggested_words')) out.suggested_count = Float32Array.from(asList(table, 'suggested_words'), (l) => l.length);
    return fromColumns(Object.values(out), Object.keys(out));
  },
});
