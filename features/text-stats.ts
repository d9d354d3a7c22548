/**
 * @file `text-stats`: how much text a post carries. Title length in characters and words, tag
 * count and mean tag length, suggested-word count (video track), share of upper-case letters,
 * digits, and whether the title is empty.
 *
 * @example
 *   - id: text
 *     kind: text-stats
 */
import { z } from 'zod';
import { fromColumns } from '../core/matrix.ts';
import { defineFeature } from './feature.ts';
import { asList, asStrings, hasColumn } from './columns.ts';

export const textStats = defineFeature({
  kind: 'text-stats',
  version: 1,
  summary: 'title length, word and tag counts, suggested-word count, case and digit shares',
  params: z.object({}).strict(),
  compute({ table }) {
    const title = asStrings(table, 'title');
    const tags = asList(table, 'tags');
    const n = table.n;
    const cols = {
      title_chars: new Float32Array(n),
      title_words: new Float32Array(n),
      title_empty: new Float32Array(n),
      title_upper_share: new Float32Array(n),
      title_digits: new Float32Array(n),
      tag_count: new Float32Array(n),
      tag_mean_len: new Float32Array(n),
    };
    for (let i = 0; i < n; i++) {
      const t = title[i] ?? '';
      const letters = t.match(/\p{L}/gu)?.length ?? 0;
      cols.title_chars[i] = [...t].length;
      cols.title_words[i] = t.split(/\s+/).filter(Boolean).length;
      cols.title_empty[i] = t.trim() ? 0 : 1;
      cols.title_upper_share[i] = letters ? (t.match(/\p{Lu}/gu)?.length ?? 0) / letters : 0;
      cols.title_digits[i] = t.match(/\p{N}/gu)?.length ?? 0;
      cols.tag_count[i] = tags[i].length;
      cols.tag_mean_len[i] = tags[i].length ? tags[i].reduce((s, x) => s + x.length, 0) / tags[i].length : 0;
    }
    const out: Record<string, Float32Array> = { ...cols };
    if (hasColumn(table, 'suggested_words')) out.suggested_count = Float32Array.from(asList(table, 'suggested_words'), (l) => l.length);
    return fromColumns(Object.values(out), Object.keys(out));
  },
});
