/**
 * @file What the two SMPD image-track layouts (2019/2020 and 2023+) share: the field schema of
 * the JSON metadata files (source field -> Table column, with its parsing rule), the join of a
 * metadata file onto the rows (by Pid, or by position when a file has no Pid), and reading a
 * label file.
 *
 * Column names are the lower-cased source field names, except Alltags -> `tags` (list, split on
 * whitespace), Postdate -> `postdate` (unix seconds) and timezone_timezone_id (2019/2020) ->
 * `timezone_id`. timezone_offset is a number ("+08:00" -> 8). Missing values: "0" or "" for
 * Postdate/Latitude/Longitude -> NaN; "None" Pathalias -> null; "" / "None" -> NaN for numbers;
 * an empty description string -> a NaN vector row.
 */

import { UserError, place } from '../errors.ts';
import { streamJsonTable } from './json-stream.ts';
import {
  type ColumnsBuilder,
  type Ctx,
  forEachLine,
  parseId,
  UnmatchedIds,
  parseNumber,
  parseString,
  parseVectorInto,
  type ReadOptions,
  splitWords,
} from './io.ts';

type Rule = 'number' | 'zeroMissing' | 'string' | 'noneString' | 'tags' | 'vector' | 'tzOffset' | 'infer';

/** Known SMPD fields. Anything else found in a file becomes a column via type inference. */
const FIELDS: Record<string, { column: string; rule: Rule }> = {
  Category: { column: 'category', rule: 'string' },
  Subcategory: { column: 'subcategory', rule: 'string' },
  Concept: { column: 'concept', rule: 'string' },
  Title: { column: 'title', rule: 'string' },
  Mediatype: { column: 'mediatype', rule: 'string' },
  Alltags: { column: 'tags', rule: 'tags' },
  Postdate: { column: 'postdate', rule: 'zeroMissing' },
  Latitude: { column: 'latitude', rule: 'zeroMissing' },
  Longitude: { column: 'longitude', rule: 'zeroMissing' },
  Geoaccuracy: { column: 'geoaccuracy', rule: 'number' },
  Pathalias: { column: 'pathalias', rule: 'noneString' },
  Ispublic: { column: 'ispublic', rule: 'number' },
  Mediastatus: { column: 'mediastatus', rule: 'string' },
  photo_firstdate: { column: 'photo_firstdate', rule: 'zeroMissing' },
  photo_firstdatetaken: { column: 'photo_firstdatetaken', rule: 'zeroMissing' },
  photo_count: { column: 'photo_count', rule: 'number' },
  ispro: { column: 'ispro', rule: 'number' },
  canbuypro: { column: 'canbuypro', rule: 'number' },
  timezone_offset: { column: 'timezone_offset', rule: 'tzOffset' },
  timezone_id: { column: 'timezone_id', rule: 'infer' },
  timezone_timezone_id: { column: 'timezone_id', rule: 'infer' }, // 2019/2020 name
  user_description: { column: 'user_description', rule: 'vector' },
  location_description: { column: 'location_description', rule: 'vector' },
};

const ID_FIELDS = new Set(['Pid', 'Uid']);

/** The group name of each SMPD metadata file, used by `data.optional`. */
export type SmpdGroup = 'category' | 'text' | 'temporal' | 'additional' | 'user';

export interface JoinResult {
  /** records whose Pid is not among the rows */
  unmatched: UnmatchedIds;
  /** rows with no record in this file */
  uncovered: number;
}

/** One field of a metadata file being written into its column by its rule. */
class FieldSink {
  private readonly rule: Rule;
  private readonly column: string;
  private readonly ctx: Ctx;
  private out: Float64Array | (string | null)[] | string[][] | Float32Array | unknown[] | null = null;
  private inferDone: (() => void) | null = null;
  private dim = 0;

  constructor(
    file: string,
    field: string,
    private readonly cols: ColumnsBuilder,
  ) {
    const known = FIELDS[field];
    this.column = known ? known.column : field.toLowerCase();
    this.rule = known ? known.rule : 'infer';
    this.ctx = { file, record: 0, field };
    switch (this.rule) {
      case 'number':
      case 'zeroMissing':
      case 'tzOffset':
        this.out = cols.numberColumn(this.column);
        break;
      case 'string':
      case 'noneString':
        this.out = cols.stringColumn(this.column);
        break;
      case 'tags':
        this.out = cols.listColumn(this.column);
        break;
      case 'infer': {
        const c = cols.inferred(this.column);
        this.out = c.values;
        this.inferDone = c.done;
        break;
      }
      case 'vector':
        cols.reserve(this.column);
        break;
    }
  }

  write(rec: number, row: number, v: unknown): void {
    const ctx = this.ctx;
    ctx.record = rec;
    switch (this.rule) {
      case 'number':
      case 'zeroMissing':
        if (row >= 0) (this.out as Float64Array)[row] = parseNumber(v, ctx, this.rule === 'zeroMissing');
        return;
      case 'tzOffset':
        if (row >= 0) (this.out as Float64Array)[row] = parseTzOffset(v, ctx);
        return;
      case 'string':
      case 'noneString':
        if (row >= 0) (this.out as (string | null)[])[row] = parseString(v, ctx, this.rule === 'noneString');
        return;
      case 'tags':
        if (row >= 0) (this.out as string[][])[row] = Array.isArray(v) ? v.map(String) : splitWords(parseString(v, ctx));
        return;
      case 'infer':
        if (row >= 0) (this.out as unknown[])[row] = v;
        return;
      case 'vector': {
        if (this.dim === 0) {
          // dimension from the first non-empty value (399 for user_description, 400 for location_description)
          this.dim = vectorDim(v);
          if (this.dim === 0) return;
          this.out = this.cols.vectorColumn(this.column, this.dim);
        }
        if (row >= 0) parseVectorInto(v, this.dim, this.out as Float32Array, row * this.dim, ctx);
      }
    }
  }

  finish(): void {
    this.inferDone?.();
    if (this.rule === 'vector') this.cols.unreserve(this.column); // all empty: no column
  }
}

/** Element count of a non-empty vector value, 0 for a missing one. */
function vectorDim(v: unknown): number {
  if (Array.isArray(v)) return v.length;
  if (typeof v !== 'string') return 0;
  const s = v.trim();
  if (s === '' || s === 'None' || s === '0') return 0;
  let k = 1;
  for (let i = s.indexOf(','); i >= 0; i = s.indexOf(',', i + 1)) if (i < s.length - 1) k++; // a trailing comma adds none
  return k;
}

/** Record keys of a columnar file (the index of its first column) -> record numbers. */
class KeyIndex {
  count = 0;
  private map: Map<string, number> | null = null; // null while the keys are "0", "1", ...

  add(key: string): number {
    if (this.map === null && key === String(this.count)) return this.count++;
    if (this.map === null) {
      this.map = new Map();
      for (let i = 0; i < this.count; i++) this.map.set(String(i), i);
    }
    if (!this.map.has(key)) this.map.set(key, this.count++);
    return this.map.get(key)!;
  }

  get(key: string): number | undefined {
    if (this.map !== null) return this.map.get(key);
    const i = Number(key);
    return i < this.count && key === String(i) ? i : undefined;
  }
}

export interface JoinOptions {
  /**
   * Rows are the records in file order (2019/2020 files before the post ids are known);
   * when the file has Pids they are returned as the post ids.
   */
  byPosition?: boolean;
  /** The error when a file joined by position has a record count other than the row count. */
  countError?: (records: number) => string;
}

export interface JoinFileResult extends JoinResult {
  records: number;
  /** Pid/Uid of the rows, from a file read with `byPosition` that has Pids; else null. */
  ids: { pid: string[]; uid: string[] } | null;
}

/**
 * Streams the metadata file `file` (a JSON array of records or pandas columnar JSON) into
 * `cols`. Records are joined on Pid through `rowOf` (a duplicated Pid is an error naming both
 * records); a file without Pids, or any file with `byPosition`, maps record i to row i and must
 * have as many records as rows. Columnar files are read column by column; when the Pid column
 * comes after other columns, those are read in a second pass.
 */
export async function joinJsonFile(file: string, rowOf: Map<string, number>, cols: ColumnsBuilder, opts: JoinOptions = {}): Promise<JoinFileResult> {
  const n = cols.n;
  const fields = new Map<string, FieldSink>();
  const sinkOf = (field: string): FieldSink => {
    let s = fields.get(field);
    if (!s) fields.set(field, (s = new FieldSink(file, field, cols)));
    return s;
  };
  const recOfRow = new Int32Array(n).fill(-1);
  const unmatched = new UnmatchedIds();
  let byPosition = opts.byPosition === true;
  // post ids of a by-position file with Pids (2019/2020)
  let hasIds = false;
  const pid: string[] = [];
  const uid: string[] = [];

  /** row of record `rec` with Pid value `p` (join mode): -1 when the Pid is not a row. */
  const joinRow = (rec: number, p: unknown): number => {
    const id = parseId(p, { file, record: rec, field: 'Pid' });
    const row = rowOf.get(id);
    if (row === undefined) {
      unmatched.add(id);
      return -1;
    }
    if (recOfRow[row] !== -1) throw new UserError(`${file} record ${rec}: duplicated Pid "${id}" (first in record ${recOfRow[row]}, again in record ${rec})`);
    recOfRow[row] = rec;
    return row;
  };
  const positionRow = (rec: number): number => {
    if (rec >= n) return -1;
    recOfRow[rec] = rec;
    return rec;
  };
  /** the post ids of a by-position file with Pids; a duplicate is an error */
  const seenIds = new Map<string, number>();
  const collectId = (rec: number, field: 'Pid' | 'Uid', v: unknown): void => {
    if (field === 'Uid') {
      uid[rec] = v === undefined ? '' : parseId(v, { file, record: rec, field });
      return;
    }
    const id = parseId(v, { file, record: rec, field });
    const prev = seenIds.get(id);
    if (prev !== undefined) throw new UserError(`${file} record ${rec}: duplicated Pid "${id}" (first in record ${prev}, again in record ${rec})`);
    seenIds.set(id, rec);
    pid[rec] = id;
  };
  const noPid = (rec: number): never => {
    parseId(undefined, { file, record: rec, field: 'Pid' });
    throw new Error('unreachable');
  };

  // columnar state
  const keys = new KeyIndex();
  let rowsOfRec = new Int32Array(1024).fill(-2); // -2: no Pid yet, -1: not a row
  let pidDone = false;
  let sawPid = false;
  const deferred = new Set<number>();
  let recordsFirstHadPid = false;

  const first = await streamJsonTable(file, {
    record(rec, i) {
      if (i === 0) {
        recordsFirstHadPid = rec.Pid !== undefined;
        if (!recordsFirstHadPid) byPosition = true;
        else hasIds = byPosition;
      } else if (byPosition && !recordsFirstHadPid && rec.Pid !== undefined) noPid(0);
      let row: number;
      if (byPosition) {
        row = positionRow(i);
        if (hasIds) {
          collectId(i, 'Pid', rec.Pid);
          collectId(i, 'Uid', rec.Uid);
        }
      } else row = joinRow(i, rec.Pid);
      for (const field of Object.keys(rec)) if (!ID_FIELDS.has(field)) sinkOf(field).write(i, row, rec[field]);
    },
    column(name, position) {
      const isFirst = position === 0;
      if (name === 'Pid') sawPid = true;
      if (byPosition) {
        if (ID_FIELDS.has(name)) {
          hasIds ||= name === 'Pid';
          return (key, v) => {
            const rec = isFirst ? keys.add(key) : keys.get(key);
            if (rec !== undefined) collectId(rec, name as 'Pid' | 'Uid', v);
          };
        }
        const s = sinkOf(name);
        return (key, v) => {
          const rec = isFirst ? keys.add(key) : keys.get(key);
          if (rec !== undefined) s.write(rec, positionRow(rec), v);
        };
      }
      if (name === 'Pid') {
        return (key, v) => {
          const rec = isFirst ? keys.add(key) : keys.get(key);
          if (rec === undefined) return;
          if (rec >= rowsOfRec.length) {
            const grown = new Int32Array(Math.max(rec + 1, rowsOfRec.length * 2)).fill(-2);
            grown.set(rowsOfRec);
            rowsOfRec = grown;
          }
          rowsOfRec[rec] = joinRow(rec, v);
        };
      }
      if (!pidDone) {
        if (!ID_FIELDS.has(name)) {
          sinkOf(name); // keeps the column order
          deferred.add(position);
        }
        return isFirst ? (key) => void keys.add(key) : null;
      }
      if (ID_FIELDS.has(name)) return null;
      const s = sinkOf(name);
      return (key, v) => {
        const rec = keys.get(key);
        if (rec !== undefined) s.write(rec, rowsOfRec[rec], v);
      };
    },
    columnEnd(name) {
      if (name !== 'Pid' || byPosition) return;
      pidDone = true;
      for (let rec = 0; rec < keys.count; rec++) if (rec >= rowsOfRec.length || rowsOfRec[rec] === -2) noPid(rec);
    },
  });
  if (first.shape === 'columns' && !byPosition && !sawPid) {
    // no Pid column: record i is row i
    byPosition = true;
    rowsOfRec = new Int32Array(keys.count);
    for (let rec = 0; rec < keys.count; rec++) rowsOfRec[rec] = positionRow(rec);
  }
  const records = first.shape === 'records' ? first.count : keys.count;
  if (hasIds) {
    for (let rec = 0; rec < records; rec++) {
      if (pid[rec] === undefined) noPid(rec);
      uid[rec] ??= '';
    }
  }
  if (byPosition && records !== n) {
    throw new UserError(opts.countError ? opts.countError(records) : `${file}: has ${records} records but the image list has ${n} rows, and no Pid field to join on`);
  }
  if (deferred.size > 0) {
    await streamJsonTable(file, {
      record() {},
      column(name, position) {
        if (!deferred.has(position)) return null;
        const s = sinkOf(name);
        return (key, v) => {
          const rec = keys.get(key);
          if (rec !== undefined) s.write(rec, rowsOfRec[rec], v);
        };
      },
    });
  }
  for (const s of fields.values()) s.finish();
  let uncovered = 0;
  for (let r = 0; r < n; r++) if (recOfRow[r] === -1) uncovered++;
  return { unmatched, uncovered, records, ids: hasIds ? { pid, uid } : null };
}

/**
 * A time-zone offset as a number: numeric values as they are (participants' code casts the
 * field to int), "+08:00" / "-0530" / "UTC+8" forms as hours (8, -5.5, 8).
 */
export function parseTzOffset(v: unknown, ctx: Ctx): number {
  if (typeof v === 'string') {
    const m = /^\s*(?:utc|gmt)?\s*([+-])(\d{1,2}):?(\d{2})?\s*$/i.exec(v);
    if (m) return (m[1] === '-' ? -1 : 1) * (Number(m[2]) + (m[3] ? Number(m[3]) / 60 : 0));
  }
  return parseNumber(v, ctx);
}

/**
 * Reads a label file: one float per line, aligned with the rows. A line may hold extra
 * whitespace-separated tokens (the first is the label). Trailing blank lines are ignored; a
 * blank or non-numeric line elsewhere is a UserError naming file:line.
 */
export async function readLabels(file: string): Promise<{ values: number[]; lines: number[] }> {
  const values: number[] = [];
  const lines: number[] = [];
  const blanks: number[] = [];
  await forEachLine(file, (line, no) => {
    const t = line.trim();
    if (t === '') {
      blanks.push(no);
      return;
    }
    if (blanks.length > 0) throw new UserError(`${place(file, blanks[0])}: empty label line`);
    const tok = t.split(/[\s,]+/)[0];
    const x = Number(tok);
    if (!Number.isFinite(x)) throw new UserError(`${place(file, no)}: label "${t.length > 40 ? t.slice(0, 40) + '...' : t}" is not a number`);
    values.push(x);
    lines.push(no);
  });
  return { values, lines };
}

/** Unmatched records: an error unless `strict: false` (UnmatchedIds.report); uncovered rows: a warning. */
export function warnJoin(opts: ReadOptions, file: string, listFile: string, r: JoinResult): void {
  r.unmatched.report(opts, file, listFile, 'Pid');
  if (r.uncovered > 0) opts.onWarning?.(`${file}: ${r.uncovered} row(s) of the image list have no record here (values missing)`);
}
