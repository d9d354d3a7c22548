/**
 * @file Helpers shared by feature kinds: read a dataset column as numbers or strings whatever
 * its stored type, encode strings as integer category codes, and pass named columns through
 * as a block (metadata, columns).
 */
import type { Column, Table } from '../core/data/table.ts';
import { fromColumns, type Matrix } from '../core/matrix.ts';

/** Column values as numbers: numbers as they are, numeric strings parsed, lists by length. */
export function asNumbers(table: Table, name: string): Float64Array {
  const col = table.columns[name];
  const out = new Float64Array(table.n).fill(NaN);
  if (!col) return out;
  switch (col.type) {
    case 'number':
      return col.values;
    case 'string':
      col.values.forEach((v, i) => {
        const x = v === null || v.trim() === '' ? NaN : Number(v);
        out[i] = Number.isFinite(x) ? x : NaN;
      });
      return out;
    case 'list':
      col.values.forEach((v, i) => (out[i] = v.length));
      return out;
    case 'vector':
      throw new Error(`column "${name}" is a vector; read it with asVector`);
  }
}

/** Column values as strings (null when missing). */
export function asStrings(table: Table, name: string): (string | null)[] {
  const col = table.columns[name];
  if (!col) return new Array<string | null>(table.n).fill(null);
  switch (col.type) {
    case 'string':
      return col.values;
    case 'number':
      return Array.from(col.values, (v) => (Number.isNaN(v) ? null : String(v)));
    case 'list':
      return col.values.map((v) => v.join(' '));
    case 'vector':
      throw new Error(`column "${name}" is a vector, not a category`);
  }
}

export function asList(table: Table, name: string): string[][] {
  const col = table.columns[name];
  if (!col) return Array.from({ length: table.n }, () => []);
  if (col.type === 'list') return col.values;
  return asStrings(table, name).map((s) => (s ? s.split(/[\s,]+/).filter(Boolean) : []));
}

export function asVector(col: Column, name: string): { dim: number; values: Float32Array } {
  if (col.type !== 'vector') throw new Error(`column "${name}" is not a vector`);
  return col;
}

/**
 * Integer codes for categories, stable across runs: levels seen at least `minCount` times are
 * numbered by descending frequency (ties by value); rarer levels share one "other" code; null
 * stays NaN (missing).
 */
export function categoryCodes(values: readonly (string | null)[], minCount = 1): { codes: Float32Array; levels: string[] } {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  const levels = [...counts.entries()]
    .filter(([, c]) => c >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([v]) => v);
  const index = new Map(levels.map((v, i) => [v, i]));
  const other = levels.length;
  const hasOther = [...counts.keys()].some((v) => !index.has(v));
  const codes = new Float32Array(values.length);
  values.forEach((v, i) => (codes[i] = v === null ? NaN : (index.get(v) ?? other)));
  return { codes, levels: hasOther ? [...levels, '(other)'] : levels };
}

export function hasColumn(table: Table, name: string): boolean {
  return name in table.columns;
}

/** Categorical columns as codes (flagged categorical, levels rarer than minCount pooled), then numeric columns as they are. */
export function passThrough(table: Table, categorical: readonly string[], numeric: readonly string[], minCount: number): { columns: ArrayLike<number>[]; names: string[]; categorical: boolean[] } {
  return {
    columns: [...categorical.map((name) => categoryCodes(asStrings(table, name), minCount).codes), ...numeric.map((name) => asNumbers(table, name))],
    names: [...categorical, ...numeric],
    categorical: [...categorical.map(() => true), ...numeric.map(() => false)],
  };
}

/** passThrough as a Matrix. */
export function passThroughBlock(table: Table, categorical: readonly string[], numeric: readonly string[], minCount: number): Matrix {
  const p = passThrough(table, categorical, numeric, minCount);
  return fromColumns(p.columns, p.names, p.categorical);
}
