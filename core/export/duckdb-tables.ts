/**
 * @file Export tables through DuckDB (`@duckdb/node-api`): a temporary on-disk database that
 * takes columns in row chunks through the appender (a 486K x 1,600 block never becomes JS
 * rows: CHUNK_ROWS rows at a time are read from the .npy and transposed into one typed column
 * each), and COPY statements that write Parquet or CSV files atomically. DuckDB spills to the
 * database file past its memory limit, so memory stays bounded whatever the block size.
 *
 * @example
 *   const db = await ExportDb.open('out/.export.duckdb');
 *   await db.createTable('clip', [{ name: 'pid', type: 'VARCHAR' }, ...], rows, (first, k) => [...columns]);
 *   await db.copy('SELECT * FROM clip', 'out/blocks/clip.parquet', 'parquet');
 *   db.close();
 */
import fs from 'node:fs';
import type { DuckDBConnection, DuckDBInstance, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { withAtomicPath } from '../cache/atomic.ts';
import { sqlName, sqlString } from '../data/duckdb.ts';

/** Rows per appended chunk (DuckDB's vector size). */
export const CHUNK_ROWS = 2048;

export type ColumnType = 'VARCHAR' | 'FLOAT' | 'DOUBLE' | 'INTEGER';

export interface ColumnSpec {
  name: string;
  type: ColumnType;
}

/** One chunk's values per column, in column order (k values each). */
export type ChunkColumns = readonly (readonly DuckDBValue[] | Float32Array | Float64Array | Int32Array)[];

export class ExportDb {
  private constructor(
    private readonly file: string,
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
  ) {}

  /** A fresh database file (removed by close); `memoryLimit` caps DuckDB's buffer memory. */
  static async open(file: string, memoryLimit = '2GB'): Promise<ExportDb> {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    removeDb(file);
    const instance = await DuckDBInstance.create(file, { memory_limit: memoryLimit, preserve_insertion_order: 'true' });
    return new ExportDb(file, instance, await instance.connect());
  }

  /** Creates `table` and appends `rows` rows; `chunk(first, k)` returns the columns of rows [first, first + k). */
  async createTable(table: string, columns: readonly ColumnSpec[], rows: number, chunk: (first: number, k: number) => ChunkColumns): Promise<void> {
    const api = await import('@duckdb/node-api');
    const types: Record<ColumnType, DuckDBType> = { VARCHAR: api.VARCHAR, FLOAT: api.FLOAT, DOUBLE: api.DOUBLE, INTEGER: api.INTEGER };
    await this.conn.run(`CREATE TABLE ${sqlName(table)} (${columns.map((c) => `${sqlName(c.name)} ${c.type}`).join(', ')})`);
    const appender = await this.conn.createAppender(table);
    try {
      const chunkTypes = columns.map((c) => types[c.type]);
      for (let first = 0; first < rows; first += CHUNK_ROWS) {
        const k = Math.min(CHUNK_ROWS, rows - first);
        const values = chunk(first, k);
        if (values.length !== columns.length) throw new Error(`export ${table}: ${values.length} columns for ${columns.length}`);
        const dc = api.DuckDBDataChunk.create(chunkTypes, k);
        values.forEach((v, j) => dc.setColumnValues(j, v as readonly DuckDBValue[]));
        appender.appendDataChunk(dc);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  /** Writes the result of `query` to `file` as Parquet (zstd) or CSV with a header, atomically. */
  async copy(query: string, file: string, format: 'parquet' | 'csv'): Promise<void> {
    const options = format === 'parquet' ? 'FORMAT parquet, COMPRESSION zstd' : 'FORMAT csv, HEADER true';
    await withAtomicPath(file, async (tmp) => {
      await this.conn.run(`COPY (${query}) TO ${sqlString(tmp)} (${options})`);
    });
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
    removeDb(this.file);
  }
}

function removeDb(file: string): void {
  for (const f of [file, `${file}.wal`]) fs.rmSync(f, { force: true });
}

/** Column `j` of the k rows held row-major in `data` (rows of `cols` values). */
export function columnOf(data: Float32Array, k: number, cols: number, j: number): Float32Array {
  const out = new Float32Array(k);
  for (let i = 0; i < k; i++) out[i] = data[i * cols + j];
  return out;
}
