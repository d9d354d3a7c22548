/**
 * @file Plain-text tables for the terminal (run summary, `smp compare`): cells formatted like
 * the HTML tables (fmt, or fmtMetric with `metrics: true`), numeric columns right-aligned.
 *
 * @example
 *   console.log(textTable(['learner', 'SRC'], [['ridge', 0.61234]])); // learner  SRC / -------  ------ / ridge  0.6123
 */
import { fmt, fmtMetric } from './html.ts';

/** A "mean ± std" cell counts as numeric for alignment. */
const NUMERIC_TEXT = /^[-\d.—]+( ± [-\d.—]+)?$/;

export function textTable(header: readonly string[], rows: readonly (readonly unknown[])[], o: { indent?: string; metrics?: boolean } = {}): string {
  const text = rows.map((row) => header.map((_, j) => (o.metrics ? fmtMetric(row[j]) : fmt(row[j]))));
  const numeric = header.map((_, j) => rows.every((row) => typeof row[j] === 'number' || row[j] === undefined || (typeof row[j] === 'string' && NUMERIC_TEXT.test(row[j] as string))));
  const width = header.map((h, j) => Math.max(h.length, ...text.map((r) => r[j].length)));
  const line = (r: readonly string[]) => (o.indent ?? '') + r.map((c, j) => (numeric[j] ? c.padStart(width[j]) : c.padEnd(width[j]))).join('  ').trimEnd();
  return [line(header), line(width.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n');
}
