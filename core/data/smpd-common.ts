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
import {
  type ColumnsBuilder,
  type Ctx,
  type JsonRecord,
  forEachLine,
  inferColumn,
  parseId,
  parseNumber,
  parseString,
  parseVectorInto,
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
  unmatched: number;
  /** rows with no record in this file */
  uncovered: number;
}

/**
 * Writes the fields of `recs` into `cols`. With `rowOf`, records are joined on Pid (a duplicated
 * Pid is an error naming both records); with `rowOf === null` the i-th record is row i and the
 * record count must equal the row count.
 */
export function joinRecords(recs: JsonRecord[], file: string, rowOf: Map<string, number> | null, cols: ColumnsBuilder): JoinResult {
  const n = cols.n;
  if (rowOf === null && recs.length !== n) {
    throw new UserError(`${file}: has ${recs.length} records but the image list has ${n} rows, and no Pid field to join on`);
  }
  // record index -> row (or -1)
  const rowsOfRec = new Int32Array(recs.length).fill(-1);
  const recOfRow = new Int32Array(n).fill(-1);
  let unmatched = 0;
  for (let i = 0; i < recs.length; i++) {
    let row: number;
    if (rowOf === null) row = i;
    else {
      const pid = parseId(recs[i].Pid, { file, record: i, field: 'Pid' });
      const r = rowOf.get(pid);
      if (r === undefined) {
        unmatched++;
        continue;
      }
      row = r;
    }
    if (recOfRow[row] !== -1) {
      const pid = rowOf === null ? '' : ` "${String(recs[i].Pid)}"`;
      throw new UserError(`${file} record ${i}: duplicated Pid${pid} (first in record ${recOfRow[row]}, again in record ${i})`);
    }
    recOfRow[row] = i;
    rowsOfRec[i] = row;
  }
  let uncovered = 0;
  for (let r = 0; r < n; r++) if (recOfRow[r] === -1) uncovered++;

  // fields in first-seen order
  const fields: string[] = [];
  const seen = new Set<string>();
  for (const rec of recs) {
    for (const k of Object.keys(rec)) {
      if (!seen.has(k)) {
        seen.add(k);
        if (!ID_FIELDS.has(k)) fields.push(k);
      }
    }
  }

  for (const field of fields) {
    const known = FIELDS[field];
    const column = known ? known.column : field.toLowerCase();
    const rule: Rule = known ? known.rule : 'infer';
    const ctx: Ctx = { file, record: 0, field };
    switch (rule) {
      case 'number':
      case 'zeroMissing': {
        const out = cols.numberColumn(column);
        for (let i = 0; i < recs.length; i++) {
          const row = rowsOfRec[i];
          if (row < 0) continue;
          ctx.record = i;
          out[row] = parseNumber(recs[i][field], ctx, rule === 'zeroMissing');
        }
        break;
      }
      case 'tzOffset': {
        const out = cols.numberColumn(column);
        for (let i = 0; i < recs.length; i++) {
          const row = rowsOfRec[i];
          if (row < 0) continue;
          ctx.record = i;
          out[row] = parseTzOffset(recs[i][field], ctx);
        }
        break;
      }
      case 'string':
      case 'noneString': {
        const out = cols.stringColumn(column);
        for (let i = 0; i < recs.length; i++) {
          const row = rowsOfRec[i];
          if (row < 0) continue;
          ctx.record = i;
          out[row] = parseString(recs[i][field], ctx, rule === 'noneString');
        }
        break;
      }
      case 'tags': {
        const out = cols.listColumn(column);
        for (let i = 0; i < recs.length; i++) {
          const row = rowsOfRec[i];
          if (row < 0) continue;
          ctx.record = i;
          const v = recs[i][field];
          out[row] = Array.isArray(v) ? v.map(String) : splitWords(parseString(v, ctx));
        }
        break;
      }
      case 'vector': {
        // dimension from the first non-empty value (399 for user_description, 400 for location_description)
        let dim = 0;
        for (const rec of recs) {
          const v = rec[field];
          if (typeof v === 'string' && v.trim() !== '' && v.trim() !== 'None' && v.trim() !== '0') {
            dim = v.split(',').filter((t, k, a) => !(k === a.length - 1 && t.trim() === '')).length;
            break;
          }
          if (Array.isArray(v) && v.length > 0) {
            dim = v.length;
            break;
          }
        }
        if (dim === 0) break; // all empty: no column
        const out = cols.vectorColumn(column, dim);
        for (let i = 0; i < recs.length; i++) {
          const row = rowsOfRec[i];
          if (row < 0) continue;
          ctx.record = i;
          parseVectorInto(recs[i][field], dim, out, row * dim, ctx);
        }
        break;
      }
      case 'infer': {
        const vals: unknown[] = new Array(n).fill(undefined);
        for (let i = 0; i < recs.length; i++) if (rowsOfRec[i] >= 0) vals[rowsOfRec[i]] = recs[i][field];
        cols.columns[column] = inferColumn(vals);
        break;
      }
    }
  }
  return { unmatched, uncovered };
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

export function warnJoin(onWarning: ((m: string) => void) | undefined, file: string, r: JoinResult): void {
  if (!onWarning) return;
  if (r.unmatched > 0) onWarning(`${file}: ${r.unmatched} record(s) have a Pid that is not in the image list (ignored)`);
  if (r.uncovered > 0) onWarning(`${file}: ${r.uncovered} row(s) of the image list have no record here (values missing)`);
}
