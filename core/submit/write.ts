/**
 * @file Submission files in the organisers' formats.
 * Image track: JSON `{"version", "result": [{"post_id": "post<Pid>", "popularity_score"}],
 * "external_data": {"used", "details"}}` in test image-list order (the scorer compares by
 * position). Video track: CSV with the header the year's scorer expects (default
 * `pid,popularity_score`; 2026 participants write `pid,polularity_score`, sic), one row per test post.
 * Table track: the same CSV with the header `<id column>,<label column>` (probabilities of
 * class 1 for binary tasks); with several targets `<id>,<target 1>,<target 2>...`, one score
 * column per target.
 */
import type { Track } from '../data/table.ts';

export interface SubmissionInput {
  track: Track;
  /** Test post ids in test-set order. */
  pids: readonly string[];
  /** One score per post, or (table track, several targets) one such array per target column. */
  scores: ArrayLike<number> | readonly ArrayLike<number>[];
  version: string;
  externalData: { used: 'true' | 'false'; details: string };
  /** Video-track CSV header (default DEFAULT_VIDEO_HEADER). */
  header?: string;
}

export const DEFAULT_VIDEO_HEADER = 'pid,popularity_score';
/** The header in the 2026 organisers' sample file and every 2026 participant's CSV. */
export const VIDEO_HEADER_2026 = 'pid,polularity_score';

/** Fixed decimals keep files byte-stable across platforms. */
function fmt(x: number): number {
  return Number(x.toFixed(6));
}

export function submissionFileName(track: Track): string {
  return track === 'image' ? 'submission.json' : 'submission.csv';
}

/** The score columns of a submission: one, or one per target. */
function scoreColumns(scores: SubmissionInput['scores']): readonly ArrayLike<number>[] {
  return Array.isArray(scores) && scores.length > 0 && typeof scores[0] === 'object' ? (scores as ArrayLike<number>[]) : [scores as ArrayLike<number>];
}

export function renderSubmission(s: SubmissionInput): string {
  const cols = scoreColumns(s.scores);
  if (s.track === 'image' && cols.length !== 1) throw new Error(`submission: the image track has one score per post, got ${cols.length} columns`);
  for (const c of cols) {
    if (s.pids.length !== c.length) throw new Error(`submission: ${s.pids.length} posts but ${c.length} scores`);
    for (let i = 0; i < c.length; i++) if (!Number.isFinite(c[i])) throw new Error(`submission: score of post ${s.pids[i]} (row ${i}) is ${c[i]}`);
  }
  if (s.track === 'image') {
    // One result per line: readable, diffable, and small for 180k test posts.
    const rows = s.pids.map((pid, i) => `  ${JSON.stringify({ post_id: `post${pid}`, popularity_score: fmt(cols[0][i]) })}`);
    return `{"version": ${JSON.stringify(s.version)},\n "result": [\n${rows.join(',\n')}\n ],\n "external_data": ${JSON.stringify(s.externalData)}}\n`;
  }
  return [s.header ?? DEFAULT_VIDEO_HEADER, ...s.pids.map((pid, i) => [pid, ...cols.map((c) => fmt(c[i]))].join(','))].join('\n') + '\n';
}
