/**
 * @file `user`: who posted. Account attributes (image: photo count, pro flags, time zone;
 * video: follower/following/likes/video counts with log1p), the 399/400-float user and location
 * description vectors of the image track, and how many posts the user has in the data
 * (train and test together: no label involved).
 *
 * @example
 *   - id: user
 *     kind: user
 *     params: { vectors: false }
 */
import { z } from 'zod';
import { createMatrix, fromColumns, hconcat, type Matrix } from '../core/matrix.ts';
import { UserError } from '../core/errors.ts';
import { defineFeature } from './feature.ts';
import { asNumbers, asStrings, asVector, categoryCodes, hasColumn } from './column-values.ts';

const NUMERIC = {
  image: ['photo_count', 'ispro', 'canbuypro', 'timezone_offset', 'photo_firstdate', 'photo_firstdatetaken'],
  video: ['user_following_count', 'user_follower_count', 'user_likes_count', 'user_video_count', 'user_digg_count', 'user_heart_count', 'user_friend_count'],
  table: [],
} as const;
const CATEGORICAL = { image: ['timezone_id'], video: [] as string[], table: [] as string[] } as const;
const VECTORS = ['user_description', 'location_description'];

export const user = defineFeature({
  kind: 'user',
  version: 1,
  summary: 'account attributes, log1p user counts, description vectors, posts per user',
  params: z
    .object({
      log1p: z.boolean().default(true).describe('log1p of count columns (counts span orders of magnitude)'),
      vectors: z.boolean().default(true).describe('include the user/location description vectors (image track)'),
      only_vectors: z.boolean().default(false).describe('output the description vectors alone (e.g. as the input of a pca block)'),
      ratios: z.boolean().default(false).describe('video track: log ratios of user counts (likes per video, followers per following, hearts per follower)'),
      uid_code: z.boolean().default(false).describe('add the user id itself as a categorical column (users seen in train and test)'),
    })
    .strict(),
  compute({ table }, params) {
    const columns: ArrayLike<number>[] = [];
    const names: string[] = [];
    const categorical: boolean[] = [];
    for (const name of NUMERIC[table.track]) {
      if (!hasColumn(table, name)) continue;
      const v = asNumbers(table, name);
      const isCount = name.endsWith('_count');
      columns.push(params.log1p && isCount ? v.map((x) => (x >= 0 ? Math.log1p(x) : x)) : v);
      names.push(params.log1p && isCount ? `log1p_${name}` : name);
      categorical.push(false);
    }
    for (const name of CATEGORICAL[table.track]) {
      if (!hasColumn(table, name)) continue;
      columns.push(categoryCodes(asStrings(table, name), 2).codes);
      names.push(name);
      categorical.push(true);
    }
    if (params.ratios && table.track === 'video') {
      // Engagement per unit of activity: trees split on a ratio only crudely from two counts.
      const ratio = (a: string, b: string) => {
        const x = asNumbers(table, a);
        const y = asNumbers(table, b);
        return Array.from(x, (v, i) => (Number.isFinite(v) && Number.isFinite(y[i]) ? Math.log1p(Math.max(0, v)) - Math.log1p(Math.max(0, y[i])) : NaN));
      };
      for (const [a, b] of [
        ['user_heart_count', 'user_video_count'],
        ['user_follower_count', 'user_following_count'],
        ['user_heart_count', 'user_follower_count'],
        ['user_follower_count', 'user_video_count'],
      ] as const) {
        if (!hasColumn(table, a) || !hasColumn(table, b)) continue;
        columns.push(ratio(a, b));
        names.push(`log_${a.replace(/^user_|_count$/g, '')}_per_${b.replace(/^user_|_count$/g, '')}`);
        categorical.push(false);
      }
    }
    const perUser = new Map<string, number>();
    for (const u of table.uid) perUser.set(u, (perUser.get(u) ?? 0) + 1);
    columns.push(table.uid.map((u) => perUser.get(u) ?? 0));
    names.push('posts_per_user');
    categorical.push(false);
    if (params.uid_code) {
      columns.push(categoryCodes(table.uid as string[], 2).codes);
      names.push('uid_code');
      categorical.push(true);
    }
    const blocks: Matrix[] = params.only_vectors ? [] : [fromColumns(columns, names, categorical)];
    if (params.vectors || params.only_vectors) {
      for (const name of VECTORS) {
        const col = table.columns[name];
        if (!col) continue;
        const { dim, values } = asVector(col, name);
        const m = createMatrix(table.n, dim, Array.from({ length: dim }, (_, k) => `${name}_${k}`));
        m.data.set(values.subarray(0, table.n * dim));
        blocks.push(m);
      }
    }
    if (!blocks.length) throw new UserError('user: only_vectors is set but the dataset has no description vectors (image track user data)');
    return hconcat(blocks);
  },
});
