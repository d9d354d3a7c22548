/**
 * @file Streaming JSON input: files are read in chunks (never as one string) and tokenized by
 * stream-json's core parser; a parse error is a UserError naming `file:line:column`; a file that
 * cannot be read (missing, permission, a folder) is a UserError too.
 *
 * `streamJsonTable` walks the two shapes of the SMPD metadata files: a JSON array of records
 * (each record, a small object, is handed over whole) and a pandas columnar object
 * (`{"Pid": {"0": "11", ...}, "user_description": {"0": "0.1,...", ...}}`, handed over cell by
 * cell, column by column, so a 600 MB file never exists as JS objects).
 *
 * The chunk size is 1 MiB; `SMP_READ_CHUNK` (bytes) or `setReadChunkSize` change it (tests force
 * tiny chunks to prove values split across chunks parse the same).
 *
 * @example
 *   await streamJsonTable(file, { record: (rec, i) => ..., column: (name) => (key, value) => ... });
 */

import { createReadStream } from 'node:fs';
import { jsonParser, type Token } from 'stream-json/core/parser.js';
import { UserError, place } from '../errors.ts';

export type JsonRecord = Record<string, unknown>;

const DEFAULT_CHUNK = 1 << 20;
let chunkOverride: number | null = null;

/** Sets the read chunk size in bytes (null: back to SMP_READ_CHUNK or 1 MiB). */
export function setReadChunkSize(bytes: number | null): void {
  if (bytes !== null && !(Number.isInteger(bytes) && bytes > 0)) throw new Error(`internal: bad read chunk size ${bytes}`);
  chunkOverride = bytes;
}

/** The read chunk size in bytes: setReadChunkSize, else SMP_READ_CHUNK, else 1 MiB. */
export function readChunkSize(): number {
  if (chunkOverride !== null) return chunkOverride;
  const env = Number(process.env.SMP_READ_CHUNK);
  return Number.isInteger(env) && env > 0 ? env : DEFAULT_CHUNK;
}

/** Turns a read error (missing file, permission, a folder) into a UserError. */
export function readError(file: string, e: unknown): Error {
  if (e instanceof UserError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return new UserError(`${file}: file not found`);
  if (code === 'EACCES' || code === 'EPERM') return new UserError(`${file}: cannot read the file (permission denied)`);
  if (code === 'EISDIR') return new UserError(`${file}: is a folder, expected a file`);
  if (code) return new UserError(`${file}: cannot read the file (${code}: ${(e as Error).message})`);
  return e as Error;
}

/** Text chunks of a file (utf8, a leading BOM dropped), read with the configured chunk size. */
export async function* readChunks(file: string): AsyncGenerator<string> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: readChunkSize() });
  let first = true;
  try {
    for await (const raw of stream) {
      let chunk = raw as string;
      if (first) {
        first = false;
        if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      }
      if (chunk.length > 0) yield chunk;
    }
  } catch (e) {
    throw readError(file, e);
  } finally {
    stream.destroy();
  }
}

const NONE = Symbol.for('object-stream.none');
type Feed = (chunk: string | symbol) => { values: Token[] } | symbol;

function newParser(): Feed {
  return jsonParser({ packValues: true, streamValues: false }) as unknown as Feed;
}

/** Line and column bookkeeping over a sequence of chunks. */
class Position {
  /** 1-based line at the start of the current chunk */
  line = 1;
  /** characters since the last newline at the start of the current chunk */
  col0 = 0;
  /** where the last non-blank character of the file so far is */
  lastNonBlank: { line: number; col: number } | null = null;

  /** line:col (1-based) of character k of `chunk` (the current chunk). */
  at(chunk: string, k: number): { line: number; col: number } {
    let line = this.line;
    let lineStart = -this.col0;
    for (let i = chunk.indexOf('\n'); i >= 0 && i < k; i = chunk.indexOf('\n', i + 1)) {
      line++;
      lineStart = i + 1;
    }
    return { line, col: k - lineStart + 1 };
  }

  /** Moves past `chunk`. */
  advance(chunk: string): void {
    let k = chunk.length - 1;
    while (k >= 0 && chunk.charCodeAt(k) <= 32) k--;
    if (k >= 0) this.lastNonBlank = this.at(chunk, k);
    const nl = chunk.lastIndexOf('\n');
    if (nl < 0) this.col0 += chunk.length;
    else {
      let count = 0;
      for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) count++;
      this.line += count;
      this.col0 = chunk.length - nl - 1;
    }
  }
}

function parserMessage(e: unknown): string {
  return ((e as Error).message ?? String(e)).replace(/^Parser (cannot parse input: |has )/, '');
}

function isParserError(e: unknown): boolean {
  return e instanceof Error && !(e instanceof UserError) && /^Parser /.test(e.message);
}

/**
 * Re-reads the file up to the chunk that failed and feeds that chunk character by character to
 * find where the parser stops (only on the error path).
 */
async function locateError(file: string, failedChunk: number): Promise<{ line: number; col: number }> {
  const p = newParser();
  const pos = new Position();
  let i = 0;
  for await (const chunk of readChunks(file)) {
    if (i < failedChunk) {
      p(chunk);
      pos.advance(chunk);
      i++;
      continue;
    }
    for (let k = 0; k < chunk.length; k++) {
      try {
        p(chunk[k]);
      } catch {
        return pos.at(chunk, k);
      }
    }
    break;
  }
  return pos.lastNonBlank ?? { line: 1, col: 1 };
}

/**
 * Streams the tokens of a JSON file (values packed: keyValue, stringValue, numberValue, ...) to
 * `onToken`. A syntax error is a UserError `file:line:col invalid JSON: ...`, noting a
 * truncated file when the text ends early. Errors thrown by `onToken` pass through.
 */
export async function forEachJsonToken(file: string, onToken: (t: Token) => void): Promise<void> {
  const p = newParser();
  const pos = new Position();
  let index = 0;
  let empty = true;
  for await (const chunk of readChunks(file)) {
    let out: { values: Token[] } | symbol;
    try {
      out = p(chunk);
    } catch (e) {
      if (!isParserError(e)) throw e;
      const { line, col } = await locateError(file, index);
      throw new UserError(`${place(file, line, col)} invalid JSON: ${parserMessage(e)}`);
    }
    if (empty && /\S/.test(chunk)) empty = false;
    pos.advance(chunk);
    index++;
    if (out !== NONE) for (const t of (out as { values: Token[] }).values) onToken(t);
  }
  if (empty) throw new UserError(`${file}: invalid JSON: the file is empty`);
  let out: { values: Token[] } | symbol;
  try {
    out = p(NONE);
  } catch (e) {
    if (!isParserError(e)) throw e;
    const { line, col } = pos.lastNonBlank ?? { line: 1, col: 1 };
    throw new UserError(`${place(file, line, col)} invalid JSON: ${parserMessage(e)} (the file looks truncated)`);
  }
  if (out !== NONE) for (const t of (out as { values: Token[] }).values) onToken(t);
}

/** What streamJsonTable hands over. */
export interface JsonTableSink {
  /** An array-of-records file: each record in file order (index from 0). */
  record(rec: JsonRecord, index: number): void;
  /**
   * A columnar file: a column starts (position from 0); return a cell handler, or null to skip
   * the column's values.
   */
  column(name: string, position: number): ((key: string, value: unknown) => void) | null;
  /** A columnar file: the column ended. */
  columnEnd?(name: string, position: number): void;
}

function primitive(t: Token): { ok: true; value: unknown } | { ok: false } {
  switch (t.name) {
    case 'stringValue':
      return { ok: true, value: t.value };
    case 'numberValue':
      return { ok: true, value: Number(t.value) };
    case 'nullValue':
      return { ok: true, value: null };
    case 'trueValue':
      return { ok: true, value: true };
    case 'falseValue':
      return { ok: true, value: false };
    default:
      return { ok: false };
  }
}

/** Builds nested values (a record, a list of tags) from tokens. */
class Assembler {
  private stack: (unknown[] | JsonRecord)[] = [];
  private keys: (string | null)[] = [];
  private key: string | null = null;
  done = false;
  value: unknown = undefined;

  get depth(): number {
    return this.stack.length;
  }

  start(t: Token): void {
    this.done = false;
    this.value = undefined;
    this.push(t);
  }

  private add(v: unknown): void {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) {
      this.value = v;
      this.done = true;
    } else if (Array.isArray(top)) top.push(v);
    else if (this.key === '__proto__') Object.defineProperty(top, this.key, { value: v, enumerable: true, writable: true, configurable: true });
    else top[this.key as string] = v;
  }

  private push(t: Token): void {
    const c: unknown[] | JsonRecord = t.name === 'startArray' ? [] : {};
    this.add(c);
    this.done = false;
    this.stack.push(c);
    this.keys.push(this.key);
  }

  /** Feeds one token; afterwards `done` tells whether the value is complete. */
  token(t: Token): void {
    switch (t.name) {
      case 'startObject':
      case 'startArray':
        this.push(t);
        return;
      case 'endObject':
      case 'endArray': {
        const c = this.stack.pop();
        this.key = this.keys.pop() ?? null;
        if (this.stack.length === 0) {
          this.value = c;
          this.done = true;
        }
        return;
      }
      case 'keyValue':
        this.key = t.value;
        return;
      default: {
        const p = primitive(t);
        if (p.ok) this.add(p.value);
      }
    }
  }
}

/** A value for an error message: `"text"`, `number 3`, `null`, `an array`, ... */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.length > 40 ? v.slice(0, 40) + '...' : v}"`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function describeStart(t: Token): string {
  if (t.name === 'startArray') return 'an array';
  if (t.name === 'startObject') return 'an object';
  const p = primitive(t);
  return p.ok ? describe(p.value) : t.name;
}

/**
 * Streams a JSON array of records or a pandas columnar object into `sink`; returns the shape
 * and the number of records (array) or columns (columnar). Other shapes are UserErrors.
 */
export async function streamJsonTable(file: string, sink: JsonTableSink): Promise<{ shape: 'records' | 'columns'; count: number }> {
  let shape: 'records' | 'columns' | null = null;
  let count = 0;
  // 0: before the top value; 1: inside the top array/object; 2: inside a column
  let depth = 0;
  const asm = new Assembler();
  let nested = false; // assembling a record (records) or a nested cell value (columns)
  let column = '';
  let cell: ((key: string, value: unknown) => void) | null = null;
  let cellKey = '';
  await forEachJsonToken(file, (t) => {
    if (nested) {
      asm.token(t);
      if (!asm.done) return;
      nested = false;
      if (shape === 'records') sink.record(asm.value as JsonRecord, count++);
      else cell?.(cellKey, asm.value);
      return;
    }
    if (depth === 0) {
      if (t.name === 'startArray') shape = 'records';
      else if (t.name === 'startObject') shape = 'columns';
      else throw new UserError(`${file}: expected a JSON array of records or a columnar object, got ${describeStart(t)}`);
      depth = 1;
      return;
    }
    if (shape === 'records') {
      if (t.name === 'endArray') depth = 0;
      else if (t.name === 'startObject') {
        asm.start(t);
        nested = true;
      } else throw new UserError(`${file} record ${count}: expected an object, got ${describeStart(t)}`);
      return;
    }
    // columnar
    if (depth === 1) {
      if (t.name === 'keyValue') column = t.value;
      else if (t.name === 'startObject') {
        depth = 2;
        cell = sink.column(column, count);
      } else if (t.name === 'endObject') depth = 0;
      else throw new UserError(`${file} column "${column}": expected an object of {row index: value} (pandas columnar JSON), got ${describeStart(t)}`);
      return;
    }
    if (t.name === 'keyValue') cellKey = t.value;
    else if (t.name === 'endObject') {
      depth = 1;
      sink.columnEnd?.(column, count);
      count++; // not inside the optional call: it would be skipped without columnEnd
      cell = null;
    } else if (t.name === 'startObject' || t.name === 'startArray') {
      asm.start(t);
      nested = true;
    } else if (cell) {
      const p = primitive(t);
      if (p.ok) cell(cellKey, p.value);
    }
  });
  return { shape: shape ?? 'records', count };
}
