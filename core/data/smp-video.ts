/**
 * @file Reader of the SMP-Video layout (video track, JSON lines; REFERENCE.md):
 *
 *   <root>/train/SMP-Video_anonymized_posts_train.jsonl       rows, in file order    (required)
 *   <root>/train/SMP-Video_anonymized_popularity_train.jsonl  {pid, uid, popularity} (required for train)
 *   <root>/train/SMP-Video_anonymized_videos_train.jsonl      {vid, pid, uid, video_*, music_*}   group "video"
 *   <root>/train/SMP-Video_anonymized_users_train.jsonl       {uid, user_*_count}                 group "user"
 *   <root>/test/..._test.jsonl                                the same without popularity
 *
 * Columns: postdate (post_time "2022-08-25 16:15" read as UTC, unix seconds), title (the raw
 * post_content), tags (post_content split on commas), suggested_words (list), post_location,
 * post_text_language, vid, video_height, video_width, video_duration, video_ratio,
 * video_format, music_title, music_duration, user_following_count, user_follower_count,
 * user_likes_count, user_video_count, user_digg_count, user_heart_count, user_friend_count
 * (other fields: lower-cased name, type inferred). Media: video_path resolved against the root.
 * Videos and popularity are joined on pid, users on uid. The users file may repeat a uid:
 * identical rows are merged; conflicting rows keep the first and are counted in a warning.
 *
 * @example
 *   const part = await readSmpVideoSplit('/data/smp-video', 'train');
 */

import { join, resolve } from 'node:path';
import { UserError, place } from '../errors.ts';
import {
  ColumnsBuilder,
  type JsonRecord,
  type ReadOptions,
  type SplitPart,
  UniqueIds,
  UnmatchedIds,
  forEachJsonl,
  inferColumn,
  isDir,
  isFile,
  missingFileError,
  parseId,
  parseNumber,
  parseString,
  parseStringList,
  splitCommas,
} from './io.ts';

export function smpVideoFile(root: string, split: 'train' | 'test', kind: 'posts' | 'users' | 'videos' | 'popularity'): string {
  return join(root, split, `SMP-Video_anonymized_${kind}_${split}.jsonl`);
}

export function isSmpVideoRoot(root: string): boolean {
  return isFile(smpVideoFile(root, 'train', 'posts')) || isFile(smpVideoFile(root, 'test', 'posts'));
}

/** "2022-08-25 16:15" (or with seconds, or ISO "T") as UTC -> unix seconds. */
export function parsePostTime(v: unknown, ctx: { file: string; line: number }): number {
  if (v === undefined || v === null || v === '') return NaN;
  if (typeof v === 'number') return v > 1e11 ? Math.floor(v / 1000) : v;
  if (typeof v !== 'string') throw new UserError(`${place(ctx.file, ctx.line)} field "post_time": expected "YYYY-MM-DD HH:MM", got ${JSON.stringify(v)}`);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(v.trim());
  if (!m) {
    if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v.trim());
    throw new UserError(`${place(ctx.file, ctx.line)} field "post_time": expected "YYYY-MM-DD HH:MM", got "${v}"`);
  }
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], m[4] ? +m[4] : 0, m[5] ? +m[5] : 0, m[6] ? +m[6] : 0);
  return ms / 1000;
}

const POST_KNOWN = new Set(['pid', 'uid', 'post_content', 'post_time', 'post_suggested_words', 'video_path']);
const VIDEO_NUMBERS = new Set(['video_height', 'video_width', 'video_duration', 'music_duration']);
const VIDEO_STRINGS = new Set(['vid', 'video_ratio', 'video_format', 'music_title']);

export async function readSmpVideoSplit(root: string, split: 'train' | 'test', opts: ReadOptions = {}): Promise<SplitPart> {
  const dir = join(root, split);
  const postsFile = smpVideoFile(root, split, 'posts');
  if (!isDir(dir)) throw new UserError(`${dir}: folder not found (the SMP-Video layout keeps the ${split} files there: SMP-Video_anonymized_{posts,users,videos${split === 'train' ? ',popularity' : ''}}_${split}.jsonl)`);
  if (!isFile(postsFile)) throw missingFileError(postsFile, null, `the ${split} posts, one JSON object per line; they define the rows`);
  const optional = new Set(opts.optional ?? []);
  const sources = [resolve(postsFile)];

  // posts, streamed line by line into the row values
  const pid: string[] = [];
  const uid: string[] = [];
  const lineOfRow: number[] = [];
  const rowOf = new Map<string, number>();
  const media: (string | null)[] = [];
  const postdate: number[] = [];
  const title: (string | null)[] = [];
  const tags: string[][] = [];
  const suggested: string[][] = [];
  const extra = new Map<string, unknown[]>();
  await forEachJsonl(postsFile, (rec, line) => {
    const p = parseId(rec.pid, { file: postsFile, line, field: 'pid' });
    const prev = rowOf.get(p);
    if (prev !== undefined) throw new UserError(`${place(postsFile, line)}: duplicated pid "${p}" (first in line ${lineOfRow[prev]}, again in line ${line})`);
    const row = pid.length;
    rowOf.set(p, row);
    lineOfRow.push(line);
    pid.push(p);
    uid.push(parseId(rec.uid, { file: postsFile, line, field: 'uid' }));
    postdate.push(parsePostTime(rec.post_time, { file: postsFile, line }));
    const content = parseString(rec.post_content, { file: postsFile, line, field: 'post_content' });
    title.push(content);
    tags.push(splitCommas(content));
    suggested.push(parseStringList(rec.post_suggested_words, { file: postsFile, line, field: 'post_suggested_words' }));
    const vp = parseString(rec.video_path, { file: postsFile, line, field: 'video_path' });
    media.push(vp ? resolve(root, vp) : null);
    for (const f of Object.keys(rec)) {
      if (POST_KNOWN.has(f)) continue;
      let vals = extra.get(f);
      if (!vals) extra.set(f, (vals = []));
      vals[row] = rec[f];
    }
  });
  const n = pid.length;
  const cols = new ColumnsBuilder(n);
  cols.columns.postdate = { type: 'number', values: Float64Array.from(postdate) };
  cols.columns.title = { type: 'string', values: title };
  cols.columns.tags = { type: 'list', values: tags };
  cols.columns.suggested_words = { type: 'list', values: suggested };
  for (const [f, vals] of extra) cols.columns[f.toLowerCase()] = inferColumn(Array.from({ length: n }, (_, i) => vals[i]));

  /** Row of a record of a file joined on pid (popularity, videos); undefined, and counted, when the pid is not a post. */
  const joinRow = (rec: JsonRecord, line: number, file: string, seen: UniqueIds, unmatched: UnmatchedIds): number | undefined => {
    const p = parseId(rec.pid, { file, line, field: 'pid' });
    seen.add(p, line);
    const row = rowOf.get(p);
    if (row === undefined) unmatched.add(p);
    return row;
  };

  // labels
  let label: Float64Array | null = null;
  if (split === 'train') {
    const popFile = smpVideoFile(root, split, 'popularity');
    if (!isFile(popFile)) throw missingFileError(popFile, null, 'the train labels, {"pid", "uid", "popularity"} per line');
    const seen = new UniqueIds(popFile, 'pid');
    label = new Float64Array(n).fill(NaN);
    const unmatched = new UnmatchedIds();
    await forEachJsonl(popFile, (rec, line) => {
      const row = joinRow(rec, line, popFile, seen, unmatched);
      if (row === undefined) return;
      const y = parseNumber(rec.popularity, { file: popFile, line, field: 'popularity' });
      if (!Number.isFinite(y)) throw new UserError(`${place(popFile, line)} field "popularity": expected a number, got ${JSON.stringify(rec.popularity)}`);
      label![row] = y;
    });
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(label[i])) throw new UserError(`${place(postsFile, lineOfRow[i])}: train post "${pid[i]}" has no popularity in ${popFile}`);
    }
    unmatched.report(opts, popFile, postsFile, 'pid');
    sources.push(resolve(popFile));
  }

  // videos, joined on pid, streamed into the columns
  const videosFile = smpVideoFile(root, split, 'videos');
  if (isFile(videosFile)) {
    const seen = new UniqueIds(videosFile, 'pid');
    const covered = new Uint8Array(n);
    const writers = new Map<string, (row: number | undefined, v: unknown, line: number) => void>();
    const inferred: (() => void)[] = [];
    const writerOf = (f: string) => {
      let w = writers.get(f);
      if (w) return w;
      const name = f.toLowerCase();
      if (VIDEO_NUMBERS.has(f)) {
        const out = cols.numberColumn(name);
        w = (row, v, line) => void (row !== undefined && (out[row] = parseNumber(v, { file: videosFile, line, field: f })));
      } else if (VIDEO_STRINGS.has(f)) {
        const out = cols.stringColumn(name);
        w = (row, v, line) => void (row !== undefined && (out[row] = parseString(v, { file: videosFile, line, field: f })));
      } else {
        const c = cols.inferred(name);
        inferred.push(c.done);
        w = (row, v) => void (row !== undefined && (c.values[row] = v));
      }
      writers.set(f, w);
      return w;
    };
    const unmatched = new UnmatchedIds();
    await forEachJsonl(videosFile, (rec, line) => {
      const row = joinRow(rec, line, videosFile, seen, unmatched);
      if (row !== undefined) covered[row] = 1;
      for (const f of Object.keys(rec)) if (f !== 'pid' && f !== 'uid') writerOf(f)(row, rec[f], line);
    });
    for (const done of inferred) done();
    const nCovered = covered.reduce((s, x) => s + x, 0);
    unmatched.report(opts, videosFile, postsFile, 'pid');
    if (nCovered < n) opts.onWarning?.(`${videosFile}: ${n - nCovered} post(s) have no video record (values missing)`);
    sources.push(resolve(videosFile));
  } else if (!optional.has('video')) {
    throw missingFileError(videosFile, 'video', `the video metadata of the ${split} posts`);
  }

  // users, joined on uid; duplicates merged
  const usersFile = smpVideoFile(root, split, 'users');
  if (isFile(usersFile)) {
    const first = new Map<string, { rec: JsonRecord; line: number; json: string }>();
    const conflicts: string[] = [];
    const fieldSet = new Set<string>();
    await forEachJsonl(usersFile, (rec, line) => {
      for (const f of Object.keys(rec)) if (f !== 'uid') fieldSet.add(f);
      const u = parseId(rec.uid, { file: usersFile, line, field: 'uid' });
      const json = JSON.stringify(rec, Object.keys(rec).sort());
      const prev = first.get(u);
      if (!prev) first.set(u, { rec, line, json });
      else if (prev.json !== json) conflicts.push(`"${u}" (lines ${prev.line} and ${line})`);
    });
    if (conflicts.length > 0) {
      opts.onWarning?.(`${usersFile}: ${conflicts.length} uid(s) have conflicting duplicate rows, kept the first: ${conflicts.slice(0, 5).join(', ')}${conflicts.length > 5 ? ', ...' : ''}`);
    }
    let missingUsers = 0;
    const recOfRow: (JsonRecord | null)[] = uid.map((u) => {
      const e = first.get(u);
      if (!e) missingUsers++;
      return e ? e.rec : null;
    });
    const userLineOfRow = uid.map((u) => first.get(u)?.line ?? 0);
    for (const f of fieldSet) {
      const name = f.toLowerCase();
      if (/_count$/.test(f)) {
        const out = cols.numberColumn(name);
        for (let i = 0; i < n; i++) {
          const r = recOfRow[i];
          if (r) out[i] = parseNumber(r[f], { file: usersFile, line: userLineOfRow[i], field: f });
        }
      } else {
        cols.columns[name] = inferColumn(recOfRow.map((r) => (r ? r[f] : undefined)));
      }
    }
    if (missingUsers > 0) opts.onWarning?.(`${usersFile}: ${missingUsers} post(s) have a uid with no user record (values missing)`);
    sources.push(resolve(usersFile));
  } else if (!optional.has('user')) {
    throw missingFileError(usersFile, 'user', `the user metadata of the ${split} posts`);
  }

  return { split, n, pid, uid, label, media, columns: cols.columns, sources };
}

/** Counts duplicate user rows of a users file: identical repeats and conflicting ones. */
export async function countUserDuplicates(file: string): Promise<{ rows: number; uids: number; identical: number; conflicting: number }> {
  const first = new Map<string, string>();
  let rows = 0;
  let identical = 0;
  let conflicting = 0;
  await forEachJsonl(file, (rec) => {
    rows++;
    const u = String(rec.uid);
    const json = JSON.stringify(rec, Object.keys(rec).sort());
    const prev = first.get(u);
    if (prev === undefined) first.set(u, json);
    else if (prev === json) identical++;
    else conflicting++;
  });
  return { rows, uids: first.size, identical, conflicting };
}
