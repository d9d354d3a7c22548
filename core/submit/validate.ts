/**
 * @file Checks a submission the way the official scorer reads it: format, one row per test
 * post, rows in test-set order (the image scorer compares by position), unique ids, finite
 * numbers. Returns every problem found (capped), not just the first.
 *
 * @example
 *   const problems = validateSubmissionText('submission.json', text, 'image', testPids);
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Track } from '../data/table.ts';
import { DEFAULT_VIDEO_HEADER, VIDEO_HEADER_2026 } from './write.ts';
import { readZipEntry } from './zip.ts';

export interface ValidateOptions {
  /** Video-track CSV header the scorer expects (default DEFAULT_VIDEO_HEADER). */
  header?: string;
}

const MAX_PROBLEMS = 20;

/** Ids, and per row its scores (one per score column). */
interface Parsed {
  ids: string[];
  scores: unknown[][];
  /** Names of the score columns (the CSV header after the id). */
  columns: string[];
}

function parseImage(name: string, text: string, problems: string[]): Parsed | null {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    problems.push(`${name}: not valid JSON (${(e as Error).message})`);
    return null;
  }
  if (!doc || typeof doc !== 'object') return (problems.push(`${name}: expected a JSON object`), null);
  if (typeof doc.version !== 'string') problems.push(`${name}: "version" must be a string like "VERSION 1.2"`);
  if (!doc.external_data || typeof doc.external_data !== 'object' || typeof doc.external_data.used !== 'string' || typeof doc.external_data.details !== 'string')
    problems.push(`${name}: "external_data" must be {"used": "true"|"false", "details": "..."}`);
  if (!Array.isArray(doc.result)) return (problems.push(`${name}: "result" must be an array`), null);
  const ids: string[] = [];
  const scores: unknown[][] = [];
  doc.result.forEach((r: any, i: number) => {
    if (!r || typeof r.post_id !== 'string') problems.push(`${name}: result[${i}].post_id must be a string "post<Pid>"`);
    ids.push(typeof r?.post_id === 'string' ? r.post_id.replace(/^post/, '') : '');
    scores.push([r?.popularity_score]);
  });
  return { ids, scores, columns: ['popularity_score'] };
}

/** A CSV `<id>,<score>[,<score 2>...]` (video track; table track: one score column per target). */
function parseCsv(name: string, text: string, problems: string[], header: string): Parsed | null {
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  const found = lines[0]?.trim() ?? '';
  if (found !== header) {
    const known = [DEFAULT_VIDEO_HEADER, VIDEO_HEADER_2026].includes(found)
      ? ` (the ${found === VIDEO_HEADER_2026 ? '2026' : 'default'} header; if your year's scorer expects it, pass --header ${found} or set submission.header in the pipeline)`
      : '';
    problems.push(`${name}:1: header must be "${header}", found "${found}"${known}`);
    return null;
  }
  const columns = header.split(',').slice(1);
  const ids: string[] = [];
  const scores: unknown[][] = [];
  lines.slice(1).forEach((line, i) => {
    const parts = line.split(',');
    if (parts.length !== columns.length + 1) problems.push(`${name}:${i + 2}: expected ${columns.length + 1} fields, found ${parts.length}`);
    ids.push(parts[0]?.trim() ?? '');
    scores.push(
      columns.map((_, j) => {
        const raw = parts[j + 1]?.trim() ?? '';
        return raw === '' ? NaN : Number(raw);
      }),
    );
  });
  return { ids, scores, columns };
}

export function validateSubmissionText(name: string, text: string, track: Track, testPids: readonly string[], opts: ValidateOptions = {}): string[] {
  const problems: string[] = [];
  const parsed = track === 'image' ? parseImage(name, text, problems) : parseCsv(name, text, problems, opts.header ?? DEFAULT_VIDEO_HEADER);
  if (!parsed) return problems;
  const { ids, scores, columns } = parsed;
  const rowName = (i: number) => (track === 'image' ? `result[${i}]` : `line ${i + 2}`);
  if (ids.length !== testPids.length) problems.push(`${name}: ${ids.length} rows, the test set has ${testPids.length} posts`);
  const seen = new Map<string, number>();
  ids.forEach((id, i) => {
    const prev = seen.get(id);
    if (prev !== undefined) problems.push(`${name}: ${rowName(i)}: duplicate id "${id}" (first at ${rowName(prev)})`);
    else seen.set(id, i);
  });
  const known = new Set(testPids);
  ids.forEach((id, i) => {
    if (!known.has(id)) problems.push(`${name}: ${rowName(i)}: "${id}" is not a test post`);
  });
  const missing = testPids.filter((p) => !seen.has(p));
  if (missing.length) problems.push(`${name}: ${missing.length} test posts have no row, e.g. "${missing.slice(0, 3).join('", "')}"`);
  if (track === 'image' && ids.length === testPids.length && missing.length === 0) {
    const firstOff = ids.findIndex((id, i) => id !== testPids[i]);
    if (firstOff >= 0) problems.push(`${name}: rows are not in test image-list order (the scorer compares by position): ${rowName(firstOff)} is "${ids[firstOff]}", expected "${testPids[firstOff]}"`);
  }
  // One score column says "score"; several name the column.
  scores.forEach((row, i) =>
    row.forEach((s, j) => {
      if (typeof s !== 'number' || !Number.isFinite(s)) problems.push(`${name}: ${rowName(i)}: ${columns.length > 1 ? columns[j] : 'score'} ${typeof s === 'number' ? String(s) : (JSON.stringify(s) ?? String(s))} is not a finite number`);
    }),
  );
  return problems.slice(0, MAX_PROBLEMS);
}

/** The track a submission file is for, from its type (.json: image, .csv: video; a zip by its entry), or null. */
export async function inferTrack(file: string): Promise<Track | null> {
  const name = file.endsWith('.zip') && fs.existsSync(file) ? (await readZipEntry(file)).name : file;
  return /\.json$/i.test(name) ? 'image' : /\.csv$/i.test(name) ? 'video' : null;
}

/** Reads a .json, .csv or .zip submission file and validates it. */
export async function validateSubmissionFile(file: string, track: Track, testPids: readonly string[], opts: ValidateOptions = {}): Promise<string[]> {
  if (!fs.existsSync(file)) return [`${file}: file not found`];
  if (file.endsWith('.zip')) {
    const { name, text } = await readZipEntry(file);
    return validateSubmissionText(`${path.basename(file)}/${name}`, text, track, testPids, opts);
  }
  return validateSubmissionText(file, fs.readFileSync(file, 'utf8'), track, testPids, opts);
}
