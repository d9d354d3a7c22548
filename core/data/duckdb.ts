/**
 * @file Small helpers for reading CSV and Parquet files through DuckDB's Node API
 * (`@duckdb/node-api`): the file's table expression, quoting, numeric type names, and a
 * connection that is always closed. Shared by the table track reader and the `embeddings` kind.
 *
 * @example
 *   await withDuckDb(async (conn) => (await conn.runAndReadAll(`SELECT 1`)).getRows());
 */
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';

/** DuckDB types read as numbers. */
export const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL(\(.*\))?)$/;

export type TableFormat = 'csv' | 'parquet';

export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

export function sqlName(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** The format of a table file from its extension, or null. */
export function tableFormat(file: string): TableFormat | null {
  const ext = path.extname(file).toLowerCase();
  return ext === '.csv' || ext === '.tsv' ? 'csv' : ext === '.parquet' || ext === '.pq' ? 'parquet' : null;
}

/**
 * The table expression of a file; `text` names CSV columns read as VARCHAR whatever they
 * look like (ids such as 007 keep their zeros). Parquet columns keep their stored types.
 */
export function fileSource(file: string, format: TableFormat, text: readonly string[] = []): string {
  if (format === 'parquet') return `read_parquet(${sqlString(file)})`;
  const types = text.length ? `, types = {${text.map((c) => `${sqlString(c)}: 'VARCHAR'`).join(', ')}}` : '';
  return `read_csv_auto(${sqlString(file)}, header = true${types})`;
}

/** Runs `fn` on a fresh in-memory DuckDB connection, closed afterwards. */
export async function withDuckDb<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    return await fn(conn);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** Column name -> DuckDB type of a table expression. */
export async function describeColumns(conn: DuckDBConnection, source: string): Promise<Map<string, string>> {
  const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
  return new Map(described.getRowObjects().map((o) => [String(o.column_name), String(o.column_type)]));
}
