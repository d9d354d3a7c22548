/**
 * @file Reader of the SMPD image track, 2023+ layout (REFERENCE.md):
 *
 *   <root>/train/train_img_filepath.txt      one image path per line (`train/<Uid>/<Pid>.jpg`); defines the rows
 *   <root>/train/train_label.txt             one float per line, aligned with the image list (train only)
 *   <root>/train/train_category.json         [{Uid, Pid, Category, Subcategory, Concept}]          group "category"
 *   <root>/train/train_text.json             [{Uid, Pid, Title, Mediatype, Alltags}]               group "text"
 *   <root>/train/train_temporalspatial_information.json [{Uid, Pid, Postdate, Latitude, ...}]      group "temporal"
 *   <root>/train/train_additional_information.json [{Uid, Pid, Pathalias, Ispublic, Mediastatus}] group "additional"
 *   <root>/train/train_user_data.json        columnar pandas JSON, user_description (399 floats as
 *                                            a comma-separated string), location_description (400)  group "user"
 *   <root>/test/test_*                       the same with a `test_` prefix, without the label file
 *
 * Files may also sit in `<root>/<split>_allmetadata_json/` (a layout seen in participant repos).
 * Pid and Uid come from the image path (`<Uid>/<Pid>.jpg`); the JSON files are joined on Pid.
 * Media paths are the list entries resolved against the root (entries that do not start with
 * the split folder name are resolved against `<root>/<split>/`); the files need not exist.
 *
 * @example
 *   const part = await readSmpdImageSplit('/data/smpd', 'test', { optional: ['text', 'temporal', 'user'] });
 */

import { isAbsolute, join, resolve } from 'node:path';
import { UserError, place } from '../errors.ts';
import { ColumnsBuilder, type ReadOptions, type SplitPart, forEachLine, isDir, isFile, missingFileError } from './io.ts';
import { type SmpdGroup, joinJsonFile, readLabels, warnJoin } from './smpd-common.ts';

export const SMPD_IMAGE_FILES: Record<SmpdGroup, string> = {
  category: 'category.json',
  text: 'text.json',
  temporal: 'temporalspatial_information.json',
  additional: 'additional_information.json',
  user: 'user_data.json',
};

/** The folder holding a split's files: `<root>/<split>` or `<root>/<split>_allmetadata_json`. */
export function smpdImageDir(root: string, split: 'train' | 'test'): string | null {
  for (const d of [join(root, split), join(root, `${split}_allmetadata_json`)]) {
    if (isFile(join(d, `${split}_img_filepath.txt`))) return d;
  }
  return null;
}

/** Resolves an image-list entry to an absolute path. */
export function resolveImagePath(root: string, split: string, entry: string): string {
  if (isAbsolute(entry)) return entry;
  const first = entry.split(/[\\/]/)[0];
  return first === split || first === 'train' || first === 'test' ? resolve(root, entry) : resolve(root, split, entry);
}

/** Reads an image list: rows, Pid/Uid from the path, media paths. Duplicated Pids are errors. */
export async function readImageList(file: string, root: string, split: string): Promise<{ pid: string[]; uid: string[]; media: string[]; rowOf: Map<string, number>; entries: string[] }> {
  const pid: string[] = [];
  const uid: string[] = [];
  const media: string[] = [];
  const entries: string[] = [];
  const rowOf = new Map<string, number>();
  const lineOf: number[] = [];
  await forEachLine(file, (line, no) => {
    const t = line.trim();
    if (t === '') return;
    const parts = t.split(/[\\/]/);
    const base = parts[parts.length - 1];
    const dot = base.lastIndexOf('.');
    const p = dot > 0 ? base.slice(0, dot) : base;
    const u = parts.length >= 2 ? parts[parts.length - 2] : '';
    if (p === '') throw new UserError(`${place(file, no)}: cannot read a Pid from image path "${t}" (expected <split>/<Uid>/<Pid>.jpg)`);
    const prev = rowOf.get(p);
    if (prev !== undefined) throw new UserError(`${place(file, no)}: duplicated Pid "${p}" (first on line ${lineOf[prev]}, again on line ${no})`);
    rowOf.set(p, pid.length);
    lineOf.push(no);
    pid.push(p);
    uid.push(u);
    entries.push(t);
    media.push(resolveImagePath(root, split, t));
  });
  return { pid, uid, media, rowOf, entries };
}

export async function readSmpdImageSplit(root: string, split: 'train' | 'test', opts: ReadOptions = {}): Promise<SplitPart> {
  const dir = smpdImageDir(root, split);
  if (!dir) {
    const expected = join(root, split, `${split}_img_filepath.txt`);
    throw new UserError(
      `${join(root, split)}: no SMPD image-track ${split} data here (expected ${expected}, which lists the ${split} images and defines the row order)`,
    );
  }
  const listFile = join(dir, `${split}_img_filepath.txt`);
  const sources = [resolve(listFile)];
  const list = await readImageList(listFile, root, split);
  const n = list.pid.length;

  let label: Float64Array | null = null;
  if (split === 'train') {
    const labelFile = join(dir, 'train_label.txt');
    if (!isFile(labelFile)) throw missingFileError(labelFile, null, 'the train folder must hold the labels, one float per line aligned with train_img_filepath.txt');
    const { values } = await readLabels(labelFile);
    if (values.length !== n) throw new UserError(`${labelFile}: has ${values.length} labels but ${listFile} lists ${n} images (they must be aligned line by line)`);
    label = Float64Array.from(values);
    sources.push(resolve(labelFile));
  }

  const cols = new ColumnsBuilder(n);
  const optional = new Set(opts.optional ?? []);
  for (const group of Object.keys(SMPD_IMAGE_FILES) as SmpdGroup[]) {
    const file = join(dir, `${split}_${SMPD_IMAGE_FILES[group]}`);
    if (!isFile(file)) {
      if (optional.has(group)) continue;
      throw missingFileError(file, group, `the ${group} metadata of the ${split} posts`);
    }
    const r = await joinJsonFile(file, list.rowOf, cols);
    warnJoin(opts, file, listFile, r);
    sources.push(resolve(file));
  }
  const imgPath = cols.stringColumn('img_path');
  for (let i = 0; i < n; i++) imgPath[i] = list.entries[i];
  return { split, n, pid: list.pid, uid: list.uid, label, media: list.media, columns: cols.columns, sources };
}

export function isSmpdImageRoot(root: string): boolean {
  return smpdImageDir(root, 'train') !== null || smpdImageDir(root, 'test') !== null || (isDir(join(root, 'train')) && isFile(join(root, 'train', 'train_label.txt')));
}
