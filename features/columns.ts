/**
 * @file `columns`: a table's own columns as features. Numeric columns pass through; categorical
 * columns become integer codes flagged categorical (levels rarer than `min_count` pooled), so
 * gbdt splits on them natively and ridge / mlp one-hot or embed them. By default every column
 * the table track typed numeric or categorical (`data.columns` overrides the inferred roles);
 * text columns go to text-stats / tfidf-svd, the time column to `time`. On the image and video
 * tracks name the columns in `include`.
 *
 * @example
 *   - id: cols
 *     kind: columns
 *     params: { exclude: [file_size] }
 */
import { z } from 'zod';
import { UserError } from '../core/errors.ts';
import { defineFeature } from './feature.ts';
import { passThroughBlock } from './column-values.ts';

export const columns = defineFeature({
  kind: 'columns',
  version: 1,
  summary: 'table columns as they are: numeric pass through, categorical as codes (table track: all by default)',
  params: z
    .object({
      include: z.array(z.string()).optional().describe('columns to use (default on the table track: every numeric and categorical column)'),
      exclude: z.array(z.string()).default([]).describe('columns to leave out'),
      min_count: z.number().int().min(1).default(2).describe('categorical levels seen fewer times share one "other" code'),
    })
    .strict(),
  compute({ table }, params) {
    const available = () => Object.keys(table.columns).sort().join(', ');
    const roles = table.roles ?? {};
    if (!params.include && !table.roles) throw new UserError(`columns: the ${table.track} track has no column roles; name the columns in params.include (available: ${available()})`);
    const names = (params.include ?? Object.keys(roles).filter((c) => roles[c] === 'numeric' || roles[c] === 'categorical')).filter((c) => !params.exclude.includes(c));
    const cats: string[] = [];
    const nums: string[] = [];
    for (const name of names) {
      const col = table.columns[name];
      if (!col) throw new UserError(`columns: dataset has no column "${name}"; available: ${available()}`);
      const role = roles[name] ?? (col.type === 'number' ? 'numeric' : col.type === 'string' ? 'categorical' : null);
      if (role === 'numeric') nums.push(name);
      else if (role === 'categorical') cats.push(name);
      else throw new UserError(`columns: "${name}" is ${role ?? `a ${col.type} column`}, not numeric or categorical (text: text-stats / tfidf-svd; or set data.columns.${name})`);
    }
    if (!cats.length && !nums.length) throw new UserError(`columns: no numeric or categorical column to pass through (available: ${available()})`);
    return passThroughBlock(table, cats, nums, params.min_count);
  },
});
