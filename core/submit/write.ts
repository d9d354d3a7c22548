/**
 * @file Submission files in the organisers' formats.
 * Image track: JSON `{"version", "result": [{"post_id": "post<Pid>", "popularity_score"}],
 * "external_data": {"used", "details"}}` in test image-list order (the scorer compares by
 * position). Video track: CSV `pid,popularity_score`, one row per test post.
 */
import type { Track } from '../data/table.ts';

export interface SubmissionInput {
  track: Track;
  /** Test post ids in test-set order. */
  pids: readonly string[];
  scores: ArrayLike<number>;
  version: string;
  externalData: { used: 'true' | 'false'; details: string };
}

/** Fixed decimals keep files byte-stable across platforms. */
function fmt(x: number): number {
  return Number(x.toFixed(6));
}

export function submissionFileName(track: Track): string {
  return track === 'image' ? 'submission.json' : 'submission.csv';
}

export function renderSubmission(s: SubmissionInput): string {
  if (s.pids.length !== s.scores.length) throw new Error(`submission: ${s.pids.length} posts but ${s.scores.length} scores`);
  for (let i = 0; i < s.scores.length; i++)
    if (!Number.isFinite(s.scores[i])) throw new Error(`submission: score of post ${s.pids[i]} (row ${i}) is ${s.scores[i]}`);
  if (s.track === 'image') {
    // One result per line: readable, diffable, and small for 180k test posts.
    const rows = s.pids.map((pid, i) => `  ${JSON.stringify({ post_id: `post${pid}`, popularity_score: fmt(s.scores[i]) })}`);
    return `{"version": ${JSON.stringify(s.version)},\n "result": [\n${rows.join(',\n')}\n ],\n "external_data": ${JSON.stringify(s.externalData)}}\n`;
  }
  return ['pid,popularity_score', ...s.pids.map((pid, i) => `${pid},${fmt(s.scores[i])}`)].join('\n') + '\n';
}
