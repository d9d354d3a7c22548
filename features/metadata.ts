/**
 * @file `metadata`: post attributes as they are. Categorical fields become integer codes
 * (flagged categorical, rare levels pooled); numeric fields pass through; a few derived flags
 * (path alias present, has geo position). Defaults follow the track; fields a dataset lacks
 * (optional files) are skipped with a log line.
 *
 * @example
 *   - id: meta
 *     kind: metadata
 *     params: { categorical: [category, subcategory, concept], min_count: 3 }
 */
import { z } from 'zod';
import { fromColumns } from '../core/matrix.ts';
import { UserError } from '../core/errors.ts';
import { defineFeature } from './feature.ts';
import { asNumbers, asStrings, hasColumn, passThrough } from './column-values.ts';

const DEFAULTS = {
  image: {
    categorical: ['category', 'subcategory', 'concept', 'mediatype', 'ispublic', 'mediastatus'],
    numeric: ['latitude', 'longitude', 'geoaccuracy'],
  },
  video: {
    categorical: ['video_ratio', 'video_format', 'post_location', 'post_text_language', 'music_title'],
    numeric: ['video_height', 'video_width', 'video_duration', 'music_duration'],
  },
  // A table names its own columns: the `columns` kind passes them through.
  table: { categorical: [], numeric: [] },
} as const;

export const metadata = defineFeature({
  kind: 'metadata',
  version: 1,
  summary: 'categorical and numeric post metadata (category, media type, geo, video/music fields)',
  params: z
    .object({
      categorical: z.array(z.string()).optional().describe('columns encoded as categories (default: per track)'),
      numeric: z.array(z.string()).optional().describe('columns passed through as numbers (default: per track)'),
      min_count: z.number().int().min(1).default(2).describe('levels seen fewer times share one "other" code'),
    })
    .strict(),
  compute({ table, log }, params) {
    const defaults = DEFAULTS[table.track];
    const pick = (given: readonly string[] | undefined, fallback: readonly string[]) => {
      if (given) {
        for (const name of given) if (!hasColumn(table, name)) throw new UserError(`metadata: dataset has no column "${name}"; available: ${Object.keys(table.columns).sort().join(', ')}`);
        return given;
      }
      const present = fallback.filter((n) => hasColumn(table, n));
      const absent = fallback.filter((n) => !hasColumn(table, n));
      if (absent.length) log.info('metadata', `skipping absent columns: ${absent.join(', ')}`);
      return present;
    };
    const cats = pick(params.categorical, defaults.categorical);
    const nums = pick(params.numeric, defaults.numeric);
    const { columns, names, categorical } = passThrough(table, cats, nums, params.min_count);
    if (table.track === 'image') {
      if (hasColumn(table, 'pathalias')) {
        columns.push(asStrings(table, 'pathalias').map((v) => (v && v !== 'None' ? 1 : 0)));
        names.push('pathalias_present');
        categorical.push(false);
      }
      if (hasColumn(table, 'latitude')) {
        const lat = asNumbers(table, 'latitude');
        const lon = asNumbers(table, 'longitude');
        columns.push(Array.from(lat, (v, i) => (Number.isFinite(v) && (v !== 0 || lon[i] !== 0) ? 1 : 0)));
        names.push('has_geo');
        categorical.push(false);
      }
    }
    if (!columns.length) throw new UserError('metadata: none of its columns is in the dataset');
    return fromColumns(columns, names, categorical);
  },
});
