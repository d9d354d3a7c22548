/**
 * @file The in-memory dataset: one row per post, train rows first, then test rows.
 * Readers of every format (SMPD image track 2019/2020 and 2023+, SMP-Video jsonl, a CSV /
 * Parquet table, synthetic) produce a Table; feature blocks read named columns from it.
 *
 * Common column names across tracks (readers fill those they have):
 *   postdate (unix seconds), title (string), tags (list), uid-level and post-level raw fields
 *   under their lower-cased source names (category, subcategory, concept, mediatype, latitude,
 *   longitude, geoaccuracy, pathalias, ispublic, photo_count, ispro, timezone_offset,
 *   user_description (vector), location_description (vector), user_follower_count,
 *   video_duration, music_title, post_location, suggested_words (list), ...).
 */

export type Track = 'image' | 'video' | 'table';

/** What a table-track column holds (inferred, or set by `data.columns`). */
export type ColumnRole = 'numeric' | 'categorical' | 'text' | 'image';
export type Split = 'train' | 'test';

export type Column =
  | { type: 'number'; values: Float64Array } // NaN = missing
  | { type: 'string'; values: (string | null)[] } // null = missing
  | { type: 'list'; values: string[][] } // e.g. tags
  | { type: 'vector'; dim: number; values: Float32Array }; // n * dim, row-major; NaN row = missing

export interface Table {
  readonly track: Track;
  /** Dataset root folder as given by the user. */
  readonly root: string;
  readonly n: number;
  readonly nTrain: number;
  readonly nTest: number;
  /** Post id as in the files (Pid for image track, pid for video track), strings always. */
  readonly pid: readonly string[];
  readonly uid: readonly string[];
  /** Popularity label per row; NaN for test rows. With several targets: the first target's. */
  readonly label: Float64Array;
  /**
   * Table track with several label columns (`data.label: [a, b]`): each target's labels by
   * column name, in the order listed (`label` is the first one's array). Absent for one target.
   */
  readonly labels?: Readonly<Record<string, Float64Array>>;
  readonly columns: Readonly<Record<string, Column>>;
  /** Table track: the role of each feature column (not the id, label, split, time or group). */
  readonly roles?: Readonly<Record<string, ColumnRole>>;
  /** Absolute path of the post's image or video, null when the dataset has none. */
  readonly media: readonly (string | null)[];
  /** Every file read, for cache fingerprints and error messages. */
  readonly sources: readonly string[];
}

export function splitOf(table: Table, row: number): Split {
  return row < table.nTrain ? 'train' : 'test';
}

/** Looks up a column, failing with the list of available ones. */
export function getColumn(table: Table, name: string): Column {
  const c = table.columns[name];
  if (!c) throw new Error(`dataset has no column "${name}"; available: ${Object.keys(table.columns).sort().join(', ')}`);
  return c;
}

/**
 * The same table with only the named columns (those it has): what a stage that reads a few
 * columns keeps, so the others (user vectors, texts) can leave memory.
 */
export function withColumns(table: Table, names: Iterable<string>): Table {
  const columns: Record<string, Column> = {};
  for (const name of names) if (table.columns[name]) columns[name] = table.columns[name];
  return { ...table, columns };
}
