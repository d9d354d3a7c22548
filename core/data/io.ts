/**
 * @file Shared plumbing for the dataset readers: line-by-line reading with clear UserErrors
 * (unreadable file, bad jsonl line with line:column), value parsing (numbers, id strings,
 * comma-separated vectors), and column builders that merge the train and test splits into the
 * Table's typed columns. JSON files are streamed by json-stream.ts.
 *
 * @example
 *   await forEachJsonl(file, (rec, line) => ...);
 *   const b = new ColumnsBuilder(n); b.numberColumn('postdate')[row] = parseNumber(v, ctx);
 */

import { statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { UserError, place } from '../errors.ts';
import { type JsonRecord, describe, readChunks } from './json-stream.ts';
import type { Column } from './table.ts';

export { type JsonRecord, describe } from './json-stream.ts';

/** Where a value came from, for error messages: `file` + `record 12` or `line 7`. */
export interface Ctx {
  file: string;
  /** 1-based line for line-oriented files. */
  line?: number;
  /** 0-based record index for JSON arrays / columnar JSON. */
  record?: number;
  field?: string;
}

export function where(ctx: Ctx): string {
  const base = ctx.line !== undefined ? place(ctx.file, ctx.line) : ctx.record !== undefined ? `${ctx.file} record ${ctx.record}` : ctx.file;
  return ctx.field ? `${base} field "${ctx.field}"` : base;
}

/** Where a JSON.parse error happened: character offset and a short message. */
export function jsonErrorAt(text: string, msg: string): { pos: number; message: string; truncated: boolean } {
  const truncated = /end of JSON input/.test(msg);
  const m = /position (\d+)/.exec(msg);
  let pos = text.length;
  let message = msg.replace(/ in JSON at position \d+.*$/s, '');
  if (m) pos = Number(m[1]);
  else if (truncated) {
    // point at the last non-blank character, where a truncated file stops
    while (pos > 0 && /\s/.test(text[pos - 1])) pos--;
  } else {
    // V8 (Node 20) sometimes gives a context snippet instead of a position:
    //   Unexpected token '}', ..."2}, {"c": }]" is not valid JSON
    const s = /^Unexpected token '(.)', (\.\.\.)?"(.*?)"(\.\.\.)? is not valid JSON$/s.exec(msg);
    if (s) {
      const at = text.indexOf(s[3]);
      if (at >= 0) pos = at + (s[2] ? 10 : Math.max(0, s[3].indexOf(s[1])));
      message = `unexpected token '${s[1]}'`;
    }
  }
  return { pos, message, truncated };
}

/** Builds the "file not found" error, telling how to mark the group optional. */
export function missingFileError(file: string, group: string | null, what: string): UserError {
  const opt = group ? `; if your copy of the data has no ${group} file, mark the group optional in the pipeline (data.optional: [${group}])` : '';
  return new UserError(`${file}: file not found (${what})${opt}`);
}

export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}


/** Calls fn for every non-blank line (1-based line numbers), streaming the file. */
export async function forEachLine(file: string, fn: (line: string, lineNo: number) => void): Promise<void> {
  const rl = createInterface({ input: Readable.from(readChunks(file)), crlfDelay: Infinity });
  let no = 0;
  for await (const line of rl) fn(line, ++no);
}

/** Streams a JSON-lines file: fn gets each object with its 1-based line; blank lines are skipped. */
export async function forEachJsonl(file: string, fn: (rec: JsonRecord, line: number) => void): Promise<void> {
  await forEachLine(file, (line, no) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      const { pos, message } = jsonErrorAt(line, (e as Error).message);
      throw new UserError(`${place(file, no, pos + 1)} invalid JSON line: ${message}`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UserError(`${place(file, no)}: expected a JSON object, got ${describe(v)}`);
    fn(v as JsonRecord, no);
  });
}

/** Remembers the line of each id of a JSON-lines file; a repeated id is a UserError naming both lines. */
export class UniqueIds {
  private readonly lineOf = new Map<string, number>();

  constructor(
    private readonly file: string,
    private readonly key: string,
  ) {}

  add(id: string, line: number): void {
    const prev = this.lineOf.get(id);
    if (prev !== undefined) throw new UserError(`${place(this.file, line)}: duplicated ${this.key} "${id}" (first in line ${prev}, again in line ${line})`);
    this.lineOf.set(id, line);
  }
}

/** An id (Pid/Uid): strings as they are, integers turned into strings. */
export function parseId(v: unknown, ctx: Ctx): string {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new UserError(`${where(ctx)}: expected an id string, got ${v === undefined ? 'nothing (field missing)' : describe(v)}`);
}

const MISSING_STRINGS = new Set(['', 'none', 'null', 'nan', 'n/a']);

/**
 * A numeric field given as a number or a numeric string. Missing (NaN): undefined, null, "",
 * "None", "null", "NaN", and `zeroIsMissing` "0" / 0. A non-numeric string is a UserError.
 */
export function parseNumber(v: unknown, ctx: Ctx, zeroIsMissing = false): number {
  let x: number;
  if (v === undefined || v === null) return NaN;
  if (typeof v === 'number') x = v;
  else if (typeof v === 'boolean') x = v ? 1 : 0;
  else if (typeof v === 'string') {
    const s = v.trim();
    if (MISSING_STRINGS.has(s.toLowerCase())) return NaN;
    x = Number(s);
    if (Number.isNaN(x)) throw new UserError(`${where(ctx)}: expected a number, got ${describe(v)}`);
  } else throw new UserError(`${where(ctx)}: expected a number, got ${describe(v)}`);
  if (zeroIsMissing && x === 0) return NaN;
  return x;
}

/** A text field; undefined/null -> null (missing). Numbers are turned into strings. */
export function parseString(v: unknown, ctx: Ctx, noneIsMissing = false): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return noneIsMissing && (v === '' || v === 'None') ? null : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new UserError(`${where(ctx)}: expected a string, got ${describe(v)}`);
}

/** A list of strings (JSON array); undefined/null -> []. */
export function parseStringList(v: unknown, ctx: Ctx): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new UserError(`${where(ctx)}: expected a list of strings, got ${describe(v)}`);
  return v.map((x) => (typeof x === 'string' ? x : String(x)));
}

/**
 * A comma-separated string of floats (user_description, location_description) written into
 * `out` at `offset`. Returns false when the value is missing ("" / null / "None" / "0"), leaving
 * the row for the caller to fill with NaN. A wrong count or a non-number is a UserError.
 */
export function parseVectorInto(v: unknown, dim: number, out: Float32Array, offset: number, ctx: Ctx): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) {
    if (v.length === 0) return false;
    if (v.length !== dim) throw new UserError(`${where(ctx)}: expected ${dim} numbers, got ${v.length}`);
    for (let k = 0; k < dim; k++) {
      const x = typeof v[k] === 'number' ? (v[k] as number) : Number(v[k]);
      if (Number.isNaN(x)) throw new UserError(`${where(ctx)}: element ${k} is not a number: ${describe(v[k])}`);
      out[offset + k] = x;
    }
    return true;
  }
  if (typeof v !== 'string') throw new UserError(`${where(ctx)}: expected a comma-separated string of ${dim} numbers, got ${describe(v)}`);
  const s = v.trim();
  if (MISSING_STRINGS.has(s.toLowerCase()) || s === '0') return false;
  // hand-rolled scan: no split() and no substring per element (the real test user data has
  // ~180k rows of 399 + 400 numbers)
  let k = 0;
  let i = 0;
  const len = s.length;
  while (i <= len) {
    // fast path for the frequent bare "0"
    if (k < dim && s.charCodeAt(i) === 48 && (i + 1 === len || s.charCodeAt(i + 1) === 44)) {
      out[offset + k++] = 0;
      i += 2;
      continue;
    }
    let j = s.indexOf(',', i);
    if (j < 0) j = len;
    if (k >= dim) {
      // only trailing empty elements are tolerated
      if (s.slice(i, j).trim() === '' && j === len) break;
      throw new UserError(`${where(ctx)}: expected ${dim} comma-separated numbers, got ${s.split(',').filter((t) => t.trim() !== '').length}`);
    }
    const x = parseDecimal(s, i, j);
    if (Number.isNaN(x)) {
      if (j === len && s.slice(i, j).trim() === '') break; // trailing comma
      throw new UserError(`${where(ctx)}: element ${k} is not a number: "${s.slice(i, j)}"`);
    }
    out[offset + k++] = x;
    i = j + 1;
  }
  if (k !== dim) throw new UserError(`${where(ctx)}: expected ${dim} comma-separated numbers, got ${k}`);
  return true;
}

/**
 * Parses s[a, b) as a decimal number like Number() would (exact for up to 15 significant
 * digits); falls back to Number() for other forms; NaN when empty or not a number.
 */
export function parseDecimal(s: string, a: number, b: number): number {
  while (a < b && s.charCodeAt(a) <= 32) a++;
  while (b > a && s.charCodeAt(b - 1) <= 32) b--;
  if (a >= b) return NaN;
  let i = a;
  let neg = false;
  const c0 = s.charCodeAt(i);
  if (c0 === 45 || c0 === 43) {
    neg = c0 === 45;
    i++;
  }
  let mant = 0;
  let digits = 0;
  let scale = 0;
  let seenDot = false;
  let any = false;
  for (; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      any = true;
      if (mant === 0 && c === 48) {
        if (seenDot) scale++;
        continue;
      }
      if (digits >= 15) return Number(s.slice(a, b));
      mant = mant * 10 + (c - 48);
      digits++;
      if (seenDot) scale++;
    } else if (c === 46 && !seenDot) seenDot = true;
    else return Number(s.slice(a, b)); // exponent, inf, hex...: let Number decide
  }
  if (!any) return NaN;
  if (scale > 22) return Number(s.slice(a, b));
  const x = scale === 0 ? mant : mant / POW10[scale];
  return neg ? -x : x;
}

const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/** Splits a free-text tag string on whitespace (SMPD Alltags). */
export function splitWords(s: string | null): string[] {
  if (!s) return [];
  return s.split(/\s+/).filter((t) => t !== '');
}

/** Splits comma-joined tags (SMP-Video post_content). */
export function splitCommas(s: string | null): string[] {
  if (!s) return [];
  return s
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

// ---------------------------------------------------------------------------------------------
// Column building

/** Columns of one split under construction; each setter writes one row. */
export class ColumnsBuilder {
  readonly n: number;
  readonly columns: Record<string, Column> = {};

  constructor(n: number) {
    this.n = n;
  }

  /** Keeps a place in the column order for a column whose values come later. */
  reserve(name: string): void {
    if (!(name in this.columns)) this.columns[name] = undefined as unknown as Column;
  }

  /** Drops a reserved column that got no values. */
  unreserve(name: string): void {
    if (this.columns[name] === undefined) delete this.columns[name];
  }

  /** A column whose type is inferred once all its values (`values[row]`) are known: call done(). */
  inferred(name: string): { values: unknown[]; done: () => void } {
    this.reserve(name);
    const values: unknown[] = new Array(this.n).fill(undefined);
    return { values, done: () => void (this.columns[name] = inferColumn(values)) };
  }

  private get<T extends Column['type']>(name: string, type: T, make: () => Column): Extract<Column, { type: T }> {
    let c = this.columns[name];
    if (!c) {
      c = make();
      this.columns[name] = c;
    } else if (c.type !== type) {
      throw new Error(`internal: column "${name}" is ${c.type}, not ${type}`);
    }
    return c as Extract<Column, { type: T }>;
  }

  numberColumn(name: string): Float64Array {
    return this.get(name, 'number', () => ({ type: 'number', values: new Float64Array(this.n).fill(NaN) })).values;
  }

  stringColumn(name: string): (string | null)[] {
    return this.get(name, 'string', () => ({ type: 'string', values: new Array<string | null>(this.n).fill(null) })).values;
  }

  listColumn(name: string): string[][] {
    return this.get(name, 'list', () => ({ type: 'list', values: Array.from({ length: this.n }, () => [] as string[]) })).values;
  }

  vectorColumn(name: string, dim: number): Float32Array {
    const c = this.get(name, 'vector', () => ({ type: 'vector', dim, values: new Float32Array(this.n * dim).fill(NaN) }));
    if (c.dim !== dim) throw new Error(`internal: vector column "${name}" has dim ${c.dim}, not ${dim}`);
    return c.values;
  }
}

/**
 * Values of a field whose type is not known in advance: numbers stay numbers; if every
 * non-missing value of the field is numeric (number or numeric string) it becomes a number
 * column, otherwise a string column.
 */
export function inferColumn(values: unknown[]): Column {
  let numeric = true;
  let any = false;
  for (const v of values) {
    if (v === undefined || v === null) continue;
    if (typeof v === 'number') {
      any = true;
      continue;
    }
    if (typeof v === 'string') {
      const s = v.trim();
      if (MISSING_STRINGS.has(s.toLowerCase())) continue;
      any = true;
      if (Number.isNaN(Number(s))) {
        numeric = false;
        break;
      }
      continue;
    }
    if (Array.isArray(v)) {
      return { type: 'list', values: values.map((x) => (Array.isArray(x) ? x.map(String) : [])) };
    }
    numeric = false;
    any = true;
    break;
  }
  if (numeric && any) {
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v === 'number') out[i] = v;
      else if (typeof v === 'string') {
        const s = v.trim();
        out[i] = MISSING_STRINGS.has(s.toLowerCase()) ? NaN : Number(s);
      } else out[i] = NaN;
    }
    return { type: 'number', values: out };
  }
  return {
    type: 'string',
    values: values.map((v) => (v === undefined || v === null ? null : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v))),
  };
}

function missingColumn(like: Column, n: number): Column {
  switch (like.type) {
    case 'number':
      return { type: 'number', values: new Float64Array(n).fill(NaN) };
    case 'string':
      return { type: 'string', values: new Array<string | null>(n).fill(null) };
    case 'list':
      return { type: 'list', values: Array.from({ length: n }, () => [] as string[]) };
    case 'vector':
      return { type: 'vector', dim: like.dim, values: new Float32Array(n * like.dim).fill(NaN) };
  }
}

function asStrings(c: Column): (string | null)[] {
  if (c.type === 'string') return c.values;
  if (c.type === 'number') return Array.from(c.values, (x) => (Number.isNaN(x) ? null : String(x)));
  if (c.type === 'list') return c.values.map((l) => l.join(' '));
  throw new Error('internal: cannot turn a vector into strings');
}

/**
 * Concatenates the columns of the splits (train then test). A column absent from a split is
 * filled with missing values; a field that is numeric in one split and text in the other
 * becomes text.
 */
export function mergeColumns(parts: { n: number; columns: Record<string, Column> }[]): Record<string, Column> {
  const names: string[] = [];
  for (const p of parts) for (const k of Object.keys(p.columns)) if (!names.includes(k)) names.push(k);
  const out: Record<string, Column> = {};
  const total = parts.reduce((s, p) => s + p.n, 0);
  for (const name of names) {
    const present = parts.map((p) => p.columns[name]).filter((c): c is Column => c !== undefined);
    let type = present[0].type;
    if (present.some((c) => c.type !== type)) {
      if (present.some((c) => c.type === 'vector')) throw new UserError(`column "${name}" is a vector in one split and not in the other`);
      type = 'string';
    }
    const filled = parts.map((p) => p.columns[name] ?? missingColumn(present[0], p.n));
    if (type === 'string') {
      out[name] = { type: 'string', values: filled.flatMap((c) => asStrings(c)) };
    } else if (type === 'number') {
      const v = new Float64Array(total);
      let o = 0;
      for (const c of filled) {
        v.set((c as Extract<Column, { type: 'number' }>).values, o);
        o += (c as Extract<Column, { type: 'number' }>).values.length;
      }
      out[name] = { type: 'number', values: v };
    } else if (type === 'list') {
      out[name] = { type: 'list', values: filled.flatMap((c) => (c as Extract<Column, { type: 'list' }>).values) };
    } else {
      const dim = (present[0] as Extract<Column, { type: 'vector' }>).dim;
      if (present.some((c) => (c as Extract<Column, { type: 'vector' }>).dim !== dim)) {
        throw new UserError(`column "${name}" has vectors of different lengths in train and test`);
      }
      const v = new Float32Array(total * dim);
      let o = 0;
      for (const c of filled) {
        const vals = (c as Extract<Column, { type: 'vector' }>).values;
        v.set(vals, o);
        o += vals.length;
      }
      out[name] = { type: 'vector', dim, values: v };
    }
  }
  return out;
}

/** One split as produced by a format reader. */
export interface SplitPart {
  split: 'train' | 'test';
  n: number;
  pid: string[];
  uid: string[];
  /** null for a test split */
  label: Float64Array | null;
  media: (string | null)[];
  columns: Record<string, Column>;
  sources: string[];
}

/** Reader options shared by the formats. */
export interface ReadOptions {
  /** File groups that may be absent (e.g. 'text', 'temporal', 'user', 'category', 'additional'). */
  optional?: readonly string[];
  /** Called with a human-readable note (dropped records, duplicates, ...). */
  onWarning?: (message: string) => void;
  /**
   * Records whose post id is not a row are an error (default true): they usually mean the
   * file that defines the rows was cut short. false: a warning, and they are ignored.
   */
  strict?: boolean;
}

/** How many unmatched ids a reader keeps for its message. */
const UNMATCHED_EXAMPLES = 5;

/** Records of a joined file whose post id is not a row: counted, the first few ids kept. */
export class UnmatchedIds {
  count = 0;
  readonly first: string[] = [];

  add(id: string): void {
    if (this.count++ < UNMATCHED_EXAMPLES) this.first.push(id);
  }

  /**
   * Reports the records of `file` whose post id is not among the rows of `rowsFile`: an error
   * naming both files, the count and the first ids, or (strict: false) a warning.
   */
  report(opts: ReadOptions, file: string, rowsFile: string, field: string): void {
    if (this.count === 0) return;
    const ids = this.first.map((id) => `"${id}"`).join(', ') + (this.count > this.first.length ? ', ...' : '');
    const what = `${file}: ${this.count} record(s) have a ${field} that is not in ${rowsFile} (first: ${ids})`;
    if (opts.strict === false) opts.onWarning?.(`${what} (ignored)`);
    else throw new UserError(`${what}. Is ${rowsFile} cut short or from another release? To ignore such records with a warning, set \`data: { strict: false }\` in the pipeline.`);
  }
}
