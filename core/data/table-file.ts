/**
 * @file The table track: any popularity table in one CSV or Parquet file (or a train file and a
 * test file), read through DuckDB's Node API in row chunks straight into typed columns.
 *
 * `data: { root, id, label, split?, time?, group?, columns? }`:
 *   - label: a column, or a list of columns (several targets: Table.labels holds each);
 *   - root: a .csv / .parquet file, or a folder holding train.<ext> and test.<ext> (the test
 *     file may lack the label column), or exactly one table file;
 *   - split: a column of train / test; without it, rows with an empty label are test rows
 *     (labels of test rows are never read);
 *   - time: a date, timestamp or unix-seconds column, also given to the kit as `postdate`
 *     (the `time` kind, the time validation scheme);
 *   - group: the user / artist column (`uid`: group-kfold, user-label-stats);
 *   - columns: roles that override the inferred ones: numeric | categorical | text | image | ignore.
 * Inferred roles: numbers, booleans and dates are numeric; a string column is an image path
 * when 90% of its values end in an image extension, text when its values average 3+ words
 * (or are mostly distinct and long), else categorical.
 *
 * Memory: three streamed passes (string statistics, labels and splits, then every column),
 * never the file as one JS object; the output is the Table's own columns (float64 numbers,
 * strings). Errors name the file, the row (1-based data row; CSV: and its line) and the column.
 *
 * @example
 *   const t = await readTableFile('data/artwork/artwork.csv', { id: 'id', label: 'popularity', split: 'split' });
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { UserError } from '../errors.ts';
import { NUMERIC_TYPE, describeColumns, fileSource, sqlName, tableFormat, withDuckDb, type TableFormat } from './duckdb.ts';
import type { Column, ColumnRole, Table } from './table.ts';

export const COLUMN_ROLES = ['numeric', 'categorical', 'text', 'image', 'ignore'] as const;
export type ColumnOverride = (typeof COLUMN_ROLES)[number];

export interface TableSpec {
  id: string;
  /** One label column, or several (multi-target). */
  label: string | string[];
  split?: string;
  time?: string;
  group?: string;
  columns?: Record<string, ColumnOverride>;
}

interface Source {
  file: string;
  format: TableFormat;
  /** Every row's split when the file is one side of a train/test pair. */
  split: 'train' | 'test' | null;
  types: Map<string, string>;
}

const IMAGE_EXT = /\.(jpe?g|png|gif|bmp|webp|tiff?)$/i;
const DATE_TYPE = /^(DATE|TIMESTAMP.*)$/;

/** The label columns of a spec, in order (one for a single target). */
export function labelColumns(spec: Pick<TableSpec, 'label'>): string[] {
  return typeof spec.label === 'string' ? [spec.label] : spec.label;
}

/** The file(s) behind data.root. */
export function tableFiles(root: string): { file: string; split: 'train' | 'test' | null }[] {
  if (!fs.existsSync(root)) throw new UserError(`${root}: data file or folder not found`);
  if (fs.statSync(root).isFile()) {
    if (!tableFormat(root)) throw new UserError(`${root}: not a table file; the table track reads .csv or .parquet`);
    return [{ file: root, split: null }];
  }
  const files = fs.readdirSync(root).filter((f) => tableFormat(f)).sort();
  const named = (stem: string) => files.filter((f) => path.parse(f).name.toLowerCase() === stem);
  const [train, test] = [named('train'), named('test')];
  if (train.length === 1 && test.length === 1) return [{ file: path.join(root, train[0]), split: 'train' }, { file: path.join(root, test[0]), split: 'test' }];
  if (files.length === 1) return [{ file: path.join(root, files[0]), split: null }];
  throw new UserError(
    `${root}: expected one .csv / .parquet file, or train.<csv|parquet> and test.<csv|parquet>; found ${files.length ? files.join(', ') : 'no table file'} (point data.root at the file)`,
  );
}

/** "file row 12 (line 13)": rows are 1-based data rows; a CSV's header is line 1. */
function at(src: Source, row: number, column?: string): string {
  return `${src.file}: row ${row}${src.format === 'csv' ? ` (line ${row + 1})` : ''}${column !== undefined ? `, column "${column}"` : ''}`;
}

/** Streams a query chunk by chunk: fn(columns as getItem functions, rows in chunk, first file row 0-based). */
async function stream(conn: DuckDBConnection, sql: string, fn: (get: ((i: number) => unknown)[], rows: number, first: number) => void): Promise<number> {
  const result = await conn.stream(sql);
  let seen = 0;
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const get = Array.from({ length: chunk.columnCount }, (_, j) => {
      const v = chunk.getColumnVector(j);
      return (i: number) => v.getItem(i);
    });
    fn(get, chunk.rowCount, seen);
    seen += chunk.rowCount;
  }
  return seen;
}

/** Roles of the string columns from one aggregate pass over every source. */
async function inferStringRoles(conn: DuckDBConnection, sources: Source[], names: string[]): Promise<Map<string, ColumnRole>> {
  const roles = new Map<string, ColumnRole>();
  if (!names.length) return roles;
  const aggs = names.flatMap((c) => {
    const q = sqlName(c);
    return [
      `count(${q})`,
      `approx_count_distinct(${q})`,
      `avg(length(${q}))`,
      `avg(CASE WHEN regexp_matches(lower(${q}), '\\.(jpe?g|png|gif|bmp|webp|tiff?)$') THEN 1.0 ELSE 0.0 END)`,
      `avg(length(trim(${q})) - length(replace(trim(${q}), ' ', '')))`,
    ];
  });
  const union = sources
    .map((s) => `SELECT ${names.map((c) => (s.types.has(c) ? `CAST(${sqlName(c)} AS VARCHAR) AS ${sqlName(c)}` : `NULL::VARCHAR AS ${sqlName(c)}`)).join(', ')} FROM ${fileSource(s.file, s.format, names.filter((c) => s.types.has(c)))}`)
    .join(' UNION ALL ');
  const row = (await conn.runAndReadAll(`SELECT ${aggs.join(', ')} FROM (${union})`)).getRows()[0].map((v) => Number(v ?? 0));
  names.forEach((c, j) => {
    const [count, distinct, meanLen, imageShare, meanSpaces] = row.slice(j * 5, j * 5 + 5);
    const role: ColumnRole =
      count > 0 && imageShare >= 0.9 ? 'image' : meanSpaces >= 2 || (count > 0 && distinct / count > 0.5 && meanLen > 30) ? 'text' : 'categorical';
    roles.set(c, role);
  });
  return roles;
}

/** A number from a cell read as text: '' and null are NaN; anything else must parse. */
function parseNumber(v: unknown, where: () => string, what: string): number {
  if (v === null || v === undefined) return NaN;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  const s = String(v).trim();
  if (s === '') return NaN;
  const x = Number(s);
  if (!Number.isFinite(x)) throw new UserError(`${where()}: "${s}" is not ${what}`);
  return x;
}

/** Unix seconds from a time cell read as text: a number of seconds or a date Date.parse reads. */
function parseTime(v: unknown, where: () => string): number {
  if (v === null || v === undefined || String(v).trim() === '') return NaN;
  const s = String(v).trim();
  const x = Number(s);
  if (Number.isFinite(x)) return x;
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) || !/\d[T ]\d/.test(s) ? s : `${s}Z`);
  if (!Number.isFinite(ms)) throw new UserError(`${where()}: "${s}" is not a date, timestamp or number of seconds`);
  return ms / 1000;
}

export async function readTableFile(root: string, spec: TableSpec, onWarning?: (message: string) => void): Promise<Table> {
  const files = tableFiles(root);
  return withDuckDb(async (conn) => {
    const sources: Source[] = [];
    for (const f of files) {
      const format = tableFormat(f.file)!;
      try {
        sources.push({ ...f, format, types: await describeColumns(conn, fileSource(f.file, format)) });
      } catch (e) {
        throw new UserError(`${f.file}: cannot be read as ${format} (${(e as Error).message.split('\n')[0]})`);
      }
    }
    const all = [...new Set(sources.flatMap((s) => [...s.types.keys()]))];
    const listed = `columns: ${all.join(', ')}`;
    const need = (name: string | undefined, what: string, inEvery: readonly Source[]) => {
      if (name === undefined) return;
      for (const s of inEvery) if (!s.types.has(name)) throw new UserError(`${s.file}: no ${what} column "${name}" (data.${what}); ${listed}`);
    };
    const trainSide = sources.filter((s) => s.split !== 'test');
    need(spec.id, 'id', sources);
    const targets = labelColumns(spec);
    for (const c of targets) need(c, 'label', trainSide);
    need(spec.split, 'split', sources);
    need(spec.time, 'time', sources);
    need(spec.group, 'group', sources);
    // The time column becomes `postdate` and the group column a string column of its own name.
    const structural = new Map<string, string>([
      ...(['id', 'split', 'time', 'group'] as const).filter((k) => spec[k] !== undefined).map((k) => [spec[k]!, k] as [string, string]),
      ...targets.map((c) => [c, 'label'] as [string, string]),
    ]);
    for (const [name, role] of Object.entries(spec.columns ?? {})) {
      if (!all.includes(name)) throw new UserError(`data.columns.${name}: no column "${name}" in ${sources.map((s) => s.file).join(' / ')}; ${listed}`);
      if (structural.has(name)) throw new UserError(`data.columns.${name}: "${name}" is the data.${structural.get(name)} column; it cannot be set to ${role}`);
    }

    // Roles: overrides first, then the stored type, then string statistics.
    const typeOf = (c: string) => sources.map((s) => s.types.get(c)).filter((t): t is string => t !== undefined);
    const roles = new Map<string, ColumnRole>();
    const strings: string[] = [];
    const ignored: string[] = [];
    for (const c of all) {
      if (structural.has(c)) continue;
      const set = spec.columns?.[c];
      if (set === 'ignore') continue;
      if (set) roles.set(c, set);
      else {
        const types = typeOf(c);
        if (types.every((t) => NUMERIC_TYPE.test(t) || t === 'BOOLEAN' || DATE_TYPE.test(t))) roles.set(c, 'numeric');
        else if (types.every((t) => t === 'VARCHAR' || NUMERIC_TYPE.test(t) || DATE_TYPE.test(t))) strings.push(c);
        else ignored.push(`${c} (${types.join('/')})`);
      }
    }
    for (const [c, r] of await inferStringRoles(conn, sources, strings)) roles.set(c, r);
    if (ignored.length) onWarning?.(`columns of types the table track does not read, ignored: ${ignored.join(', ')}`);
    const names = [...roles.keys()];
    // Numbers come from DuckDB as doubles where the stored type is numeric or a date; anything
    // else is read as text and parsed here, so a bad cell is reported with its row.
    const native = (s: Source, c: string) => {
      const t = s.types.get(c);
      return t !== undefined && (NUMERIC_TYPE.test(t) || t === 'BOOLEAN' || DATE_TYPE.test(t));
    };
    const expr = (s: Source, c: string, asText: boolean): string => {
      if (!s.types.has(c)) return 'NULL';
      const q = sqlName(c);
      const t = s.types.get(c)!;
      if (asText) return `CAST(${q} AS VARCHAR)`;
      return DATE_TYPE.test(t) ? `CAST(epoch(${q}) AS DOUBLE)` : `CAST(${q} AS DOUBLE)`;
    };
    const textCols = (s: Source) => [spec.id, ...targets, ...(spec.split ? [spec.split] : []), ...names.filter((c) => roles.get(c) !== 'numeric'), ...(spec.group ? [spec.group] : [])].filter((c) => s.types.has(c));

    // Pass 1: labels and splits decide where each file row goes (train rows first). Without a
    // split column a row is a test row when every label is empty.
    const K = targets.length;
    const label: Float64Array[][] = []; // [source][target]
    const isTest: Uint8Array[] = [];
    for (const s of sources) {
      const cols = [...targets.map((c) => (s.split === 'test' || !s.types.has(c) ? 'NULL' : `CAST(${sqlName(c)} AS VARCHAR)`)), spec.split ? `CAST(${sqlName(spec.split)} AS VARCHAR)` : 'NULL'];
      const labels: number[][] = targets.map(() => []);
      const tests: number[] = [];
      const empty = (v: unknown) => v === null || String(v).trim() === '';
      await stream(conn, `SELECT ${cols.join(', ')} FROM ${fileSource(s.file, s.format, textCols(s))}`, (get, rows, first) => {
        for (let i = 0; i < rows; i++) {
          const row = first + i + 1;
          let test: boolean;
          if (s.split) test = s.split === 'test';
          else if (spec.split) {
            const v = String(get[K](i) ?? '').trim().toLowerCase();
            if (v !== 'train' && v !== 'test') throw new UserError(`${at(s, row, spec.split)}: split "${get[K](i) ?? ''}" is neither train nor test`);
            test = v === 'test';
          } else test = targets.every((_, t) => empty(get[t](i)));
          for (let t = 0; t < K; t++) {
            const y = test ? NaN : parseNumber(get[t](i), () => at(s, row, targets[t]), 'a number');
            if (!test && Number.isNaN(y)) throw new UserError(`${at(s, row, targets[t])}: empty label in a train row${spec.split ? '' : ' of the train file'}`);
            labels[t].push(y);
          }
          tests.push(test ? 1 : 0);
        }
      });
      label.push(labels.map((l) => Float64Array.from(l)));
      isTest.push(Uint8Array.from(tests));
    }
    const nTrain = isTest.reduce((t, a) => t + a.length - a.reduce((u, v) => u + v, 0), 0);
    const n = isTest.reduce((t, a) => t + a.length, 0);
    const nTest = n - nTrain;
    const dest = isTest.map(() => new Int32Array(0));
    let [tr, te] = [0, nTrain];
    isTest.forEach((a, k) => (dest[k] = Int32Array.from(a, (t) => (t ? te++ : tr++))));

    // Pass 2: every column, scattered to its row.
    const pid = new Array<string>(n);
    const labelOut = targets.map(() => new Float64Array(n).fill(NaN));
    const columns: Record<string, Column> = {};
    for (const c of names) columns[c] = roles.get(c) === 'numeric' ? { type: 'number', values: new Float64Array(n).fill(NaN) } : { type: 'string', values: new Array<string | null>(n).fill(null) };
    const group = spec.group !== undefined ? new Array<string | null>(n).fill(null) : null;
    const postdate = spec.time !== undefined ? new Float64Array(n).fill(NaN) : null;
    const seen = new Map<string, string>();
    for (const [k, s] of sources.entries()) {
      const sel = [
        `CAST(${sqlName(spec.id)} AS VARCHAR)`,
        spec.group ? `CAST(${sqlName(spec.group)} AS VARCHAR)` : 'NULL',
        spec.time ? expr(s, spec.time, !native(s, spec.time)) : 'NULL',
        ...names.map((c) => expr(s, c, roles.get(c) !== 'numeric' || !native(s, c))),
      ];
      const outs = names.map((c) => columns[c]);
      await stream(conn, `SELECT ${sel.join(', ')} FROM ${fileSource(s.file, s.format, textCols(s))}`, (get, rows, first) => {
        for (let i = 0; i < rows; i++) {
          const row = first + i + 1;
          const r = dest[k][first + i];
          const id = get[0](i);
          if (id === null || String(id).trim() === '') throw new UserError(`${at(s, row, spec.id)}: empty id`);
          const key = String(id);
          const prev = seen.get(key);
          if (prev !== undefined) throw new UserError(`${at(s, row, spec.id)}: duplicate id "${key}" (first at ${prev})`);
          seen.set(key, at(s, row));
          pid[r] = key;
          for (let t = 0; t < K; t++) labelOut[t][r] = label[k][t][first + i];
          if (group) group[r] = get[1](i) === null ? null : String(get[1](i));
          if (postdate) postdate[r] = parseTime(get[2](i), () => at(s, row, spec.time));
          for (let j = 0; j < outs.length; j++) {
            const v = get[3 + j](i);
            const col = outs[j];
            if (col.type === 'number') col.values[r] = parseNumber(v, () => at(s, row, names[j]), 'a number (the column is numeric; set data.columns to change that)');
            else if (col.type === 'string') col.values[r] = v === null ? null : String(v);
          }
        }
      });
    }
    if (postdate) columns.postdate = { type: 'number', values: postdate };
    if (group && spec.group !== undefined && !(spec.group in columns)) columns[spec.group] = { type: 'string', values: group };
    const image = names.find((c) => roles.get(c) === 'image');
    const base = fs.statSync(root).isFile() ? path.dirname(root) : root;
    const media = image ? (columns[image] as { values: (string | null)[] }).values.map((v) => (v === null ? null : path.resolve(base, v))) : new Array<string | null>(n).fill(null);
    return {
      track: 'table',
      root: base,
      n,
      nTrain,
      nTest,
      pid,
      uid: group ? group.map((g, r) => g ?? `\u0000${pid[r]}`) : pid,
      label: labelOut[0],
      ...(K > 1 ? { labels: Object.fromEntries(targets.map((c, t) => [c, labelOut[t]])) } : {}),
      columns,
      roles: Object.fromEntries(roles),
      media,
      sources: sources.map((s) => s.file),
    };
  });
}
