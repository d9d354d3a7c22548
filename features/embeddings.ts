/**
 * @file `embeddings`: bring your own features. Reads per-post vectors computed elsewhere (a
 * 2-D `.npy` of float32 or float64 with an ids file of one post id per line, or a `.csv` /
 * `.parquet` table with an id column) and joins them to the posts by id (`Pid` of the image
 * track, `pid` of the video track); rows may come in any order. The block is laid out like
 * `clip-image` (vector columns plus a `missing` flag), so pca, kmeans, hclust and cross-modal
 * read it the same way. Posts absent from the file get zeros and missing = 1, counted in the
 * run log (`embeddings.missing`); ids that are not posts of the dataset are counted
 * (`embeddings.unknown_ids`) and reported. Duplicate ids, a row count that differs from the
 * ids file, a non-2-D array, unknown or non-numeric columns are errors naming the file. The
 * .npy is read in row chunks and scattered straight into the block; CSV and Parquet are read
 * through DuckDB in chunks. Relative paths resolve against the dataset folder; the files'
 * content is part of the cache key.
 *
 * @example
 *   - id: img
 *     kind: embeddings
 *     params: { path: emb/image.npy, ids: emb/image-ids.txt }
 *   - id: title
 *     kind: embeddings
 *     params: { path: emb/title.parquet, id_column: pid, prefix: t_ }
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Table } from '../core/data/table.ts';
import { UserError } from '../core/errors.ts';
import { forEachNpyChunk, readNpyHeader } from '../core/cache/npy.ts';
import type { RunLog } from '../core/report/run-log.ts';
import { defineFeature } from './feature.ts';
import { embeddingBlock } from './embed/common.ts';
import { MISSING_FLAG } from './vectors.ts';
import { NUMERIC_TYPE, describeColumns, fileSource, sqlName, withDuckDb } from '../core/data/duckdb.ts';

const params = z
  .object({
    path: z
      .string()
      .min(1)
      .describe('the vectors: a 2-D .npy (float32 or float64, one row per id in `ids`), or a .csv / .parquet table with an id column; relative paths resolve against the dataset folder'),
    ids: z.string().min(1).optional().describe('for a .npy: text file with one post id per line, line i naming row i of the array; relative to the dataset folder'),
    id_column: z.string().min(1).default('pid').describe('for a .csv / .parquet: the column holding post ids'),
    columns: z.array(z.string().min(1)).min(1).optional().describe('for a .csv / .parquet: the numeric columns to use (default: every numeric column except the id)'),
    prefix: z.string().optional().describe('prefix of the output column names (default: emb_0.. for a .npy, the file\'s column names for a table)'),
  })
  .strict();

type Params = z.output<typeof params>;

/** Bytes of the float32 chunk the .npy is read through. */
const CHUNK_BYTES = 16 * 1024 * 1024;

function resolve(table: Table, file: string): string {
  return path.isAbsolute(file) ? file : path.resolve(table.root, file);
}

function formatOf(file: string): 'npy' | 'csv' | 'parquet' {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.npy') return 'npy';
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  throw new UserError(`embeddings: ${file}: unknown file type "${ext}"; expected .npy (with params.ids), .csv or .parquet`);
}

function mustExist(file: string, param: string, table: Table): void {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile())
    throw new UserError(`embeddings: ${file}: file not found (params.${param}; relative paths resolve against the dataset folder ${table.root})`);
}

/**
 * Joins file rows to table rows by post id. `claim` is called once per file row, in order;
 * it refuses a repeated id, and counts ids that are not posts of the dataset.
 */
class IdJoin {
  /** First table row of each post id; later rows with the same pid follow `next`. */
  private readonly head = new Map<string, number>();
  private readonly next: Int32Array;
  /** 1-based file line/row that claimed each table row, 0 when none. */
  private readonly claimedBy: Int32Array;
  private readonly unknownAt = new Map<string, number>();

  constructor(private readonly table: Table) {
    this.next = new Int32Array(table.n).fill(-1);
    this.claimedBy = new Int32Array(table.n);
    for (let r = table.n - 1; r >= 0; r--) {
      const h = this.head.get(table.pid[r]);
      if (h !== undefined) this.next[r] = h;
      this.head.set(table.pid[r], r);
    }
  }

  /** The first table row of `id` (-1 when not a post); `where` names the place for errors. */
  claim(id: string, at: number, where: (at: number) => string): number {
    const r = this.head.get(id);
    if (r === undefined) {
      const first = this.unknownAt.get(id);
      if (first !== undefined) throw new UserError(`embeddings: ${where(at)}: duplicate id "${id}" (first at ${where(first)})`);
      this.unknownAt.set(id, at);
      return -1;
    }
    if (this.claimedBy[r]) throw new UserError(`embeddings: ${where(at)}: duplicate id "${id}" (first at ${where(this.claimedBy[r])})`);
    this.claimedBy[r] = at;
    return r;
  }

  /** Calls fn for every table row of the post whose first row is `r`. */
  rowsOf(r: number, fn: (row: number) => void): void {
    for (let k = r; k >= 0; k = this.next[k]) fn(k);
  }

  /** missing[r] = 1 for rows no file row claimed. */
  missing(): Uint8Array {
    const m = new Uint8Array(this.table.n);
    for (const [, r] of this.head) {
      const gone = this.claimedBy[r] === 0 ? 1 : 0;
      this.rowsOf(r, (k) => (m[k] = gone));
    }
    return m;
  }

  report(log: RunLog, file: string): void {
    const missing = this.missing();
    let nMissing = 0;
    const examples: string[] = [];
    for (let r = 0; r < missing.length; r++)
      if (missing[r]) {
        nMissing++;
        if (examples.length < 3) examples.push(this.table.pid[r]);
      }
    if (nMissing > 0) {
      log.count('embeddings.missing', nMissing);
      log.info('embeddings', `${file}: ${nMissing} of ${this.table.n} posts have no vector (zeros, missing = 1), e.g. ${examples.join(', ')}`, { file, missing: nMissing });
    }
    if (this.unknownAt.size > 0) {
      const some = [...this.unknownAt.keys()].slice(0, 3);
      log.count('embeddings.unknown_ids', this.unknownAt.size);
      log.info('embeddings', `${file}: ${this.unknownAt.size} ids are not posts of the dataset (ignored), e.g. ${some.join(', ')}`, { file, unknown: this.unknownAt.size });
    }
  }
}

/** One id per line; a final newline (and trailing blank lines) are fine, blank lines inside are not. */
async function readIds(file: string): Promise<string[]> {
  const ids: string[] = [];
  let rest = '';
  let blankAt = 0;
  const take = (line: string): void => {
    const id = line.endsWith('\r') ? line.slice(0, -1).trim() : line.trim();
    if (id === '') {
      if (!blankAt) blankAt = ids.length + 1;
    } else {
      if (blankAt) throw new UserError(`embeddings: ${file}:${blankAt}: empty line; put one post id on each line`);
      ids.push(id);
    }
  };
  for await (const chunk of fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const lines = (rest + (chunk as string)).split('\n');
    rest = lines.pop()!;
    for (const line of lines) take(line);
  }
  if (rest !== '') take(rest);
  return ids;
}

async function fromNpy(table: Table, p: Params, file: string, log: RunLog): Promise<ReturnType<typeof embeddingBlock>> {
  if (!p.ids) throw new UserError(`embeddings: ${file}: a .npy needs params.ids, a text file with one post id per line for its rows`);
  if (p.columns) throw new UserError(`embeddings: ${file}: params.columns is for a .csv / .parquet table; a .npy uses all its columns`);
  const idsFile = resolve(table, p.ids);
  mustExist(idsFile, 'ids', table);
  let header;
  try {
    header = readNpyHeader(file);
  } catch (e) {
    throw new UserError(`embeddings: ${(e as Error).message}`);
  }
  const { rows, cols } = header;
  const ids = await readIds(idsFile);
  if (ids.length !== rows) throw new UserError(`embeddings: ${file} has ${rows} rows but ${idsFile} has ${ids.length} ids; line i of the ids file names row i of the array`);
  const join = new IdJoin(table);
  const target = new Int32Array(rows);
  ids.forEach((id, i) => (target[i] = join.claim(id, i + 1, (line) => `${idsFile}:${line}`)));
  const stride = cols + 1;
  const out = new Float32Array(table.n * stride);
  try {
    forEachNpyChunk(file, Math.max(1, Math.floor(CHUNK_BYTES / (4 * Math.max(1, cols)))), (data, first, n) => {
      for (let i = 0; i < n; i++) {
        const r = target[first + i];
        if (r >= 0) join.rowsOf(r, (k) => out.set(data.subarray(i * cols, (i + 1) * cols), k * stride));
      }
    });
  } catch (e) {
    throw e instanceof UserError ? e : new UserError(`embeddings: ${(e as Error).message}`);
  }
  join.report(log, file);
  const prefix = p.prefix ?? 'emb_';
  return embeddingBlock(out, join.missing(), cols, Array.from({ length: cols }, (_, j) => `${prefix}${j}`));
}

async function fromTable(table: Table, p: Params, file: string, format: 'csv' | 'parquet', log: RunLog): Promise<ReturnType<typeof embeddingBlock>> {
  return withDuckDb(async (conn) => {
    // CSV ids are read as text, so ids like 007 keep their zeros (once the column is known to exist)
    const source = (idAsText: boolean): string => fileSource(file, format, idAsText ? [p.id_column] : []);
    let types: Map<string, string>;
    try {
      types = await describeColumns(conn, source(false));
    } catch (e) {
      throw new UserError(`embeddings: ${file}: cannot be read as ${format} (${(e as Error).message.split('\n')[0]})`);
    }
    const names = [...types.keys()];
    if (!types.has(p.id_column))
      throw new UserError(`embeddings: ${file}: no id column "${p.id_column}" (params.id_column); columns: ${names.join(', ')}`);
    let cols: string[];
    if (p.columns) {
      for (const c of p.columns) {
        if (!types.has(c)) throw new UserError(`embeddings: ${file}: unknown column "${c}" (params.columns); columns: ${names.join(', ')}`);
        if (!NUMERIC_TYPE.test(types.get(c)!)) throw new UserError(`embeddings: ${file}: column "${c}" is ${types.get(c)}, not numeric (params.columns)`);
      }
      cols = p.columns;
    } else {
      cols = names.filter((c) => c !== p.id_column && NUMERIC_TYPE.test(types.get(c)!));
      if (cols.length === 0) throw new UserError(`embeddings: ${file}: no numeric columns besides "${p.id_column}"; columns: ${names.map((c) => `${c} (${types.get(c)})`).join(', ')}`);
    }
    const outNames = cols.map((c) => `${p.prefix ?? ''}${c}`);
    const clash = outNames.find((n) => MISSING_FLAG.test(n));
    if (clash) throw new UserError(`embeddings: ${file}: column "${clash}" would read as the missing flag; choose params.columns or a params.prefix`);
    const dim = cols.length;
    const stride = dim + 1;
    const out = new Float32Array(table.n * stride);
    const join = new IdJoin(table);
    const where = (row: number): string => `${file} row ${row}`;
    const result = await conn.stream(`SELECT CAST(${sqlName(p.id_column)} AS VARCHAR), ${cols.map((c) => `CAST(${sqlName(c)} AS FLOAT)`).join(', ')} FROM ${source(true)}`);
    let seen = 0;
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      const idVec = chunk.getColumnVector(0);
      const vecs = cols.map((_, j) => chunk.getColumnVector(j + 1));
      for (let i = 0; i < chunk.rowCount; i++) {
        const at = seen + i + 1;
        const id = idVec.getItem(i);
        if (id === null || id === '') throw new UserError(`embeddings: ${where(at)}: no id in column "${p.id_column}"`);
        const r = join.claim(String(id), at, where);
        if (r < 0) continue;
        join.rowsOf(r, (k) => {
          for (let j = 0; j < dim; j++) {
            const v = vecs[j].getItem(i);
            out[k * stride + j] = v === null ? NaN : (v as number);
          }
        });
      }
      seen += chunk.rowCount;
    }
    join.report(log, file);
    return embeddingBlock(out, join.missing(), dim, outNames);
  });
}

export const embeddings = defineFeature({
  kind: 'embeddings',
  version: 1,
  summary: 'your own per-post vectors from a .npy (+ ids file), .csv or .parquet, joined by post id, + missing flag',
  params,
  inputFiles(table, p) {
    return [p.path, ...(p.ids ? [p.ids] : [])].map((f) => resolve(table, f)).filter((f) => fs.existsSync(f));
  },
  async compute(ctx, p) {
    const { table, log } = ctx;
    const file = resolve(table, p.path);
    const format = formatOf(file);
    mustExist(file, 'path', table);
    if (format === 'npy') return fromNpy(table, p, file, log);
    if (p.ids) throw new UserError(`embeddings: ${file}: params.ids is for a .npy; a ${format} file names its ids in params.id_column`);
    return fromTable(table, p, file, format, log);
  },
});
