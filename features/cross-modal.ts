/**
 * @file `cross-modal`: how what a post shows relates to what it says and to its context,
 * from embedding blocks in one shared space (CLIP image and CLIP text). Per row:
 *   - cosine of image/title, image/tags, title/tags (for the modalities given);
 *   - for each modality in `group` (default: image): cosine to the mean embedding of the same
 *     user's other posts and of the same category's other posts (leave-one-out, over train and
 *     test rows: no labels involved), and the user's embedding spread (mean Euclidean distance
 *     of the user's unit embeddings to their mean; a user with one post has none: NaN).
 * Rows whose embedding is missing (all zero, NaN, or flagged) get NaN.
 *
 * @example
 *   - id: xmodal
 *     kind: cross-modal
 *     inputs: [clipimg, cliptitle, cliptags]
 *     params: { image: clipimg, title: cliptitle, tags: cliptags, category: category }
 */
import { z } from 'zod';
import { fromColumns } from '../core/matrix.ts';
import type { Table } from '../core/data/table.ts';
import { UserError } from '../core/errors.ts';
import { defineFeature } from './feature.ts';
import { asStrings, hasColumn } from './column-values.ts';
import { blockVectors, inputBlock, readRow, type Vectors } from './vectors.ts';

const MODALITIES = ['image', 'title', 'tags'] as const;
type Modality = (typeof MODALITIES)[number];

/** Cosine of row r in two unit-vector sets (read where they lie); NaN when either is missing. */
function pairCosine(a: Vectors, b: Vectors): Float64Array {
  const out = new Float64Array(a.rows).fill(NaN);
  const [da, db] = [a.block.data, b.block.data];
  for (let r = 0; r < a.rows; r++) {
    if (a.missing[r] || b.missing[r]) continue;
    const [oa, ob, sa, sb] = [r * a.block.cols, r * b.block.cols, a.scale[r], b.scale[r]];
    let s = 0;
    for (let j = 0; j < a.dim; j++) s += da[oa + a.cols[j]] * sa * (db[ob + b.cols[j]] * sb);
    out[r] = s;
  }
  return out;
}

/** Group codes (-1 = no group) for a list of keys. */
function groupCodes(keys: readonly (string | null)[]): { code: Int32Array; groups: number } {
  const index = new Map<string, number>();
  const code = new Int32Array(keys.length);
  keys.forEach((k, i) => {
    if (k === null) {
      code[i] = -1;
      return;
    }
    let g = index.get(k);
    if (g === undefined) index.set(k, (g = index.size));
    code[i] = g;
  });
  return { code, groups: index.size };
}

/**
 * Leave-one-out cosine of each unit vector to the mean of its group's other vectors, and
 * (optionally) each group's spread: mean distance of its vectors to their mean. Rows are
 * visited group by group (a counting sort of the codes), so one group sum (dim floats) is
 * held at a time, not groups x dim.
 */
export function groupSimilarity(v: Vectors, keys: readonly (string | null)[]): { loo: Float64Array; spread: Float64Array } {
  const { code, groups } = groupCodes(keys);
  const { dim } = v;
  const start = new Int32Array(groups + 1);
  for (let r = 0; r < v.rows; r++) if (code[r] >= 0 && !v.missing[r]) start[code[r] + 1]++;
  for (let g = 0; g < groups; g++) start[g + 1] += start[g];
  const members = new Int32Array(start[groups]);
  const next = start.slice(0, groups);
  for (let r = 0; r < v.rows; r++) if (code[r] >= 0 && !v.missing[r]) members[next[code[r]]++] = r;

  const loo = new Float64Array(v.rows).fill(NaN);
  const groupSpread = new Float64Array(groups).fill(NaN);
  const sum = new Float64Array(dim);
  const u = new Float64Array(dim);
  for (let g = 0; g < groups; g++) {
    const n = start[g + 1] - start[g];
    if (n === 0) continue;
    sum.fill(0);
    for (let i = start[g]; i < start[g + 1]; i++) {
      readRow(v, members[i], u);
      for (let j = 0; j < dim; j++) sum[j] += u[j];
    }
    let sumSq = 0;
    for (let j = 0; j < dim; j++) sumSq += sum[j] ** 2;
    let dist = 0;
    for (let i = start[g]; i < start[g + 1]; i++) {
      const r = members[i];
      readRow(v, r, u);
      let dot = 0; // u . S
      let uu = 0; // u . u (1 for unit vectors, kept exact)
      let dc = 0; // |u - S/n|^2
      for (let j = 0; j < dim; j++) {
        dot += u[j] * sum[j];
        uu += u[j] * u[j];
        dc += (u[j] - sum[j] / n) ** 2;
      }
      dist += Math.sqrt(dc);
      if (n < 2) continue;
      // others = S - u; cos(u, others) = (u.S - u.u) / (|u| |S - u|)
      const othersSq = sumSq - 2 * dot + uu;
      if (othersSq <= 1e-12 * n * n) continue;
      loo[r] = (dot - uu) / (Math.sqrt(uu) * Math.sqrt(othersSq));
    }
    if (n >= 2) groupSpread[g] = dist / n;
  }
  // every row of the group gets its spread, also a row without a vector of its own
  const spread = new Float64Array(v.rows).fill(NaN);
  for (let r = 0; r < v.rows; r++) if (code[r] >= 0) spread[r] = groupSpread[code[r]];
  return { loo, spread };
}

function categoryKeys(table: Table, column: string): (string | null)[] {
  if (!hasColumn(table, column))
    throw new UserError(
      `cross-modal: dataset has no column "${column}" for the category centroid; set params.category to one of ${Object.keys(table.columns).sort().join(', ')}, or to null to skip it`,
    );
  return asStrings(table, column);
}

export const crossModal = defineFeature({
  kind: 'cross-modal',
  version: 1,
  summary: 'cosine between image/title/tags embeddings; leave-one-out similarity to the user and category; user embedding spread',
  params: z
    .object({
      image: z.string().optional().describe('id of the image embedding block (e.g. a clip-image entry listed in inputs)'),
      title: z.string().optional().describe('id of the title embedding block, in the same space as the image (clip-text)'),
      tags: z.string().optional().describe('id of the tags embedding block, in the same space as the image (clip-text)'),
      group: z
        .array(z.enum(MODALITIES))
        .optional()
        .describe('modalities that get user/category similarity and user spread (default: image if given, else all given)'),
      user: z.boolean().default(true).describe("cosine to the mean of the same user's other posts (leave-one-out)"),
      spread: z.boolean().default(true).describe("per-user spread: mean distance of the user's embeddings to their mean"),
      category: z
        .string()
        .nullable()
        .default('category')
        .describe('column whose groups give the leave-one-out category centroid; null to skip'),
    })
    .strict(),
  compute({ table, inputs, log }, params) {
    const given = MODALITIES.filter((m) => params[m] !== undefined);
    if (given.length === 0) throw new UserError('cross-modal: name at least one embedding block with params.image, params.title or params.tags');
    const vec = {} as Record<Modality, Vectors>;
    for (const m of given) {
      const block = inputBlock(inputs, params[m], 'cross-modal', m);
      if (block.rows !== table.n) throw new Error(`cross-modal: block ${params[m]} has ${block.rows} rows for ${table.n} posts`);
      vec[m] = blockVectors(block, { zeroIsMissing: true, normalize: true });
      const missing = vec[m].missing.reduce((s, x) => s + x, 0);
      if (missing > 0) log.info('cross-modal', `${m}: ${missing} of ${table.n} rows have no embedding (NaN features)`);
    }
    const columns: Float64Array[] = [];
    const names: string[] = [];
    for (let i = 0; i < given.length; i++)
      for (let j = i + 1; j < given.length; j++) {
        const [a, b] = [given[i], given[j]];
        if (vec[a].dim !== vec[b].dim)
          throw new UserError(
            `cross-modal: ${a} (${params[a]}, ${vec[a].dim} dims) and ${b} (${params[b]}, ${vec[b].dim} dims) are not in one embedding space; use the same CLIP model for both`,
          );
        columns.push(pairCosine(vec[a], vec[b]));
        names.push(`cos_${a}_${b}`);
      }
    const group = params.group ?? (given.includes('image') ? ['image' as const] : given);
    for (const m of group) {
      if (!vec[m]) throw new UserError(`cross-modal: params.group lists ${m}, but params.${m} names no block`);
      if (params.user || params.spread) {
        const { loo, spread } = groupSimilarity(vec[m], table.uid);
        if (params.user) {
          columns.push(loo);
          names.push(`${m}_user_loo_cos`);
        }
        if (params.spread) {
          columns.push(spread);
          names.push(`${m}_user_spread`);
        }
      }
      if (params.category !== null) {
        columns.push(groupSimilarity(vec[m], categoryKeys(table, params.category)).loo);
        names.push(`${m}_${params.category}_loo_cos`);
      }
    }
    if (columns.length === 0) throw new UserError('cross-modal: nothing to compute; give two modalities, or enable user, spread or category');
    return fromColumns(columns, names);
  },
});
