/**
 * @file `readDataset(root)`: detects the layout of a dataset folder and reads it into a Table
 * (train rows first, then test rows).
 *
 * Layouts (first match wins; `track: 'video'` forces SMP-Video, `track: 'image'` excludes it):
 *   - SMP-Video jsonl:      <root>/{train,test}/SMP-Video_anonymized_posts_<split>.jsonl  (smp-video.ts)
 *   - SMPD 2019/2020:       <root>/{train,test}_all_json/                                 (smpd-2019.ts)
 *   - SMPD 2023+ (and the synthetic sample): <root>/{train,test}/<split>_img_filepath.txt  (smpd-image.ts)
 *   - `track: 'table'`: a CSV / Parquet file, or train + test files, with `table` naming the
 *     id and label columns                                                              (table-file.ts)
 *
 * Options: `splits` (default both) reads only some splits, e.g. `['test']` for a folder that
 * has only test data; `optional` names file groups that may be absent ('category', 'text',
 * 'temporal', 'additional', 'user' for the image track; 'video', 'user' for the video track);
 * `onWarning` receives notes such as conflicting duplicate users; records of the other files whose
 * post id is not a row are an error unless `strict: false` (then a warning).
 *
 * @example
 *   const t = await readDataset('data/sample');
 *   const ex = await readDataset('../shared/data/smpd-image-excerpt', { splits: ['test'], optional: ['text', 'temporal', 'user'] });
 */

import { join, resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { type ReadOptions, type SplitPart, isDir, mergeColumns } from './io.ts';
import { isSmpd2019Root, readSmpd2019Split } from './smpd-2019.ts';
import { isSmpdImageRoot, readSmpdImageSplit } from './smpd-image.ts';
import { isSmpVideoRoot, readSmpVideoSplit } from './smp-video.ts';
import type { Split, Table, Track } from './table.ts';
import { readTableFile, type TableSpec } from './table-file.ts';

export type Layout = 'smp-video' | 'smpd-2019' | 'smpd-2023';

export interface ReadDatasetOptions {
  track?: Track;
  optional?: string[];
  splits?: Split[];
  onWarning?: (message: string) => void;
  /** Records whose post id is not a row: an error (default) or, false, a warning (ReadOptions.strict). */
  strict?: boolean;
  /** Table track: which columns are the id, label, split, time and group, and role overrides. */
  table?: TableSpec;
}

const EXPECTED =
  'one of: train/ and test/ folders with <split>_img_filepath.txt and the SMPD JSON files (image track, 2023+), ' +
  'train_all_json/ and test_all_json/ (image track, 2019/2020), ' +
  'or train/ and test/ folders with SMP-Video_anonymized_posts_<split>.jsonl (video track)';

/** Which layout a folder holds, or null. */
export function detectLayout(root: string, track?: Track): Layout | null {
  if (track !== 'image' && isSmpVideoRoot(root)) return 'smp-video';
  if (track === 'video') return null;
  if (isSmpd2019Root(root)) return 'smpd-2019';
  if (isSmpdImageRoot(root)) return 'smpd-2023';
  return null;
}

export async function readDataset(root: string, opts: ReadDatasetOptions = {}): Promise<Table> {
  if (opts.track === 'table') {
    if (!opts.table) throw new Error('readDataset: track table needs the table spec (id and label columns)');
    return readTableFile(root, opts.table, opts.onWarning);
  }
  if (!isDir(root)) {
    throw new UserError(`${root}: data folder not found (expected ${EXPECTED}; run \`smp synth --track image --out ${root}\` to make a synthetic one)`);
  }
  const layout = detectLayout(root, opts.track);
  if (!layout) {
    const what = opts.track === 'video' ? 'train/ and test/ folders with SMP-Video_anonymized_posts_<split>.jsonl (video track)' : EXPECTED;
    throw new UserError(`${root}: no dataset found in this folder (expected ${what})`);
  }
  const splits: Split[] = opts.splits && opts.splits.length > 0 ? [...new Set(opts.splits)].sort((a, b) => (a === 'train' ? -1 : b === 'train' ? 1 : 0)) : ['train', 'test'];
  const ropts: ReadOptions = { optional: opts.optional, onWarning: opts.onWarning, strict: opts.strict };
  const parts: SplitPart[] = [];
  for (const split of splits) {
    const folder = layout === 'smpd-2019' ? join(root, `${split}_all_json`) : join(root, split);
    if (!isDir(folder)) {
      const other = splits.length > 1 ? ` (to read only the other split, pass splits: [${splits.filter((s) => s !== split).map((s) => `'${s}'`).join(', ')}])` : '';
      throw new UserError(`${folder}: folder not found; the ${layout} layout keeps the ${split} files there${other}`);
    }
    const part =
      layout === 'smp-video'
        ? await readSmpVideoSplit(root, split, ropts)
        : layout === 'smpd-2019'
          ? await readSmpd2019Split(root, split, ropts)
          : await readSmpdImageSplit(root, split, ropts);
    parts.push(part);
  }
  return assemble(root, layout === 'smp-video' ? 'video' : 'image', parts);
}

/** Joins split parts (train first) into a Table; a Pid in both splits is an error. */
export function assemble(root: string, track: Track, parts: SplitPart[]): Table {
  const train = parts.filter((p) => p.split === 'train');
  const test = parts.filter((p) => p.split === 'test');
  const ordered = [...train, ...test];
  const nTrain = train.reduce((s, p) => s + p.n, 0);
  const nTest = test.reduce((s, p) => s + p.n, 0);
  const n = nTrain + nTest;
  const pid = ordered.flatMap((p) => p.pid);
  const seen = new Map<string, string>();
  for (const p of ordered) {
    for (const id of p.pid) {
      const prev = seen.get(id);
      if (prev !== undefined) throw new UserError(`${resolve(root)}: post id "${id}" is in both the ${prev} and the ${p.split} split`);
      seen.set(id, p.split);
    }
  }
  const label = new Float64Array(n).fill(NaN);
  let o = 0;
  for (const p of ordered) {
    if (p.label) label.set(p.label, o);
    o += p.n;
  }
  return {
    track,
    root,
    n,
    nTrain,
    nTest,
    pid,
    uid: ordered.flatMap((p) => p.uid),
    label,
    columns: mergeColumns(ordered),
    media: ordered.flatMap((p) => p.media),
    sources: ordered.flatMap((p) => p.sources),
  };
}
