/**
 * @file Reader of the SMPD image track, 2019/2020 layout:
 *
 *   <root>/train_all_json/train_img.txt             one Flickr URL per line, e.g.
 *                                                   https://www.flickr.com/photos/7107177@N05/23511051534
 *   <root>/train_all_json/train_label.txt           one float per line (train only)
 *   <root>/train_all_json/train_category.json       [{Uid, Pid, Category, Subcategory, Concept}]   group "category"
 *   <root>/train_all_json/train_tags.json           [{Uid, Pid, Title, Mediatype, Alltags}]        group "text"
 *   <root>/train_all_json/train_temporalspatial.json [{Uid, Pid, Postdate, Latitude, Longitude, Geoaccuracy}] group "temporal"
 *   <root>/train_all_json/train_additional.json     [{Uid, Pid, Pathalias, Ispublic, Mediastatus}] group "additional"
 *   <root>/train_all_json/train_userdata.json       user fields (photo_firstdate, photo_count, ispro, canbuypro,
 *                                                   timezone_offset, timezone_timezone_id, photo_firstdatetaken,
 *                                                   user_description, location_description), records or columnar  group "user"
 *   <root>/test_all_json/test_*                     the same for test; the image list is test_imgfile.txt
 *                                                   (or test_img.txt), no label file
 *
 * What public sources show (organisers' repo social-media-prediction/SMPChallenge and
 * participant repos, 2019-2020 code): participants read the label with
 * `pd.read_csv(train_label.txt, header=None)` (one value per line; some split each line on a
 * space and take the first token), read train_img.txt as one URL per line and turn
 * `url[30:]` (after `https://www.flickr.com/photos/`) into `<user>/<photo id>` for a local
 * `train/<user>/<photo id>.jpg`, and glue the files together **by position**
 * (`pd.concat([..., userdata, img, label], axis=1)`; userdata has no reliable Pid). The URL ids
 * are Flickr's, not the anonymised Pid ("user id and post id inconsistencies in the
 * train_img.txt file"), so Pid/Uid of a row come from the JSON files.
 *
 * Here: row i = line i of the image list and of the label file = record i of the first
 * metadata file present (category, then tags, temporalspatial, additional), which gives Pid and
 * Uid. The other files are joined on Pid when they carry one, by position otherwise (then their
 * record count must equal the row count). Media path: a Flickr photo URL maps to
 * `<root>/<split>/<user>/<photo id>.jpg`; a relative path is resolved against the root. The raw
 * line is kept in the `img_url` column.
 *
 * @example
 *   const part = await readSmpd2019Split('/data/smpd2020', 'train');
 */

import { join, resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { ColumnsBuilder, type ReadOptions, type SplitPart, forEachLine, isDir, isFile, missingFileError } from './io.ts';
import { type SmpdGroup, joinJsonFile, readLabels, warnJoin } from './smpd-common.ts';
import { resolveImagePath } from './smpd-image.ts';

export const SMPD_2019_FILES: Record<SmpdGroup, string> = {
  category: 'category.json',
  text: 'tags.json',
  temporal: 'temporalspatial.json',
  additional: 'additional.json',
  user: 'userdata.json',
};

/** Groups in the order they may define Pid/Uid of the rows. */
const ID_ORDER: SmpdGroup[] = ['category', 'text', 'temporal', 'additional', 'user'];

export function smpd2019Dir(root: string, split: 'train' | 'test'): string {
  return join(root, `${split}_all_json`);
}

export function isSmpd2019Root(root: string): boolean {
  return isDir(smpd2019Dir(root, 'train')) || isDir(smpd2019Dir(root, 'test'));
}

const FLICKR_PHOTO = /^https?:\/\/(?:www\.)?flickr\.com\/photos\/([^/]+)\/([^/?#]+)/i;

export function mediaFromImgLine(root: string, split: string, line: string): string {
  const m = FLICKR_PHOTO.exec(line);
  if (m) return resolve(root, split, m[1], `${m[2]}.jpg`);
  if (/^https?:\/\//i.test(line)) {
    // another URL form: keep its last two path segments
    const parts = line.replace(/[?#].*$/, '').split('/').filter((s) => s !== '');
    const last = parts[parts.length - 1];
    return resolve(root, split, parts[parts.length - 2] ?? '', /\.[a-z]{3,4}$/i.test(last) ? last : `${last}.jpg`);
  }
  return resolveImagePath(root, split, line);
}

export async function readSmpd2019Split(root: string, split: 'train' | 'test', opts: ReadOptions = {}): Promise<SplitPart> {
  const dir = smpd2019Dir(root, split);
  if (!isDir(dir)) {
    throw new UserError(`${dir}: folder not found (the SMPD 2019/2020 layout keeps the ${split} files there: ${split}_img.txt, ${split}_category.json, ...)`);
  }
  const sources: string[] = [];
  const imgCandidates = split === 'test' ? ['test_imgfile.txt', 'test_img.txt'] : ['train_img.txt', 'train_imgfile.txt'];
  const imgFile = imgCandidates.map((f) => join(dir, f)).find(isFile);
  if (!imgFile) throw missingFileError(join(dir, imgCandidates[0]), null, `the ${split} image list, one Flickr URL or image path per line; it defines the row order`);
  const lines: string[] = [];
  await forEachLine(imgFile, (line) => {
    if (line.trim() !== '') lines.push(line.trim());
  });
  sources.push(resolve(imgFile));
  const n = lines.length;

  let label: Float64Array | null = null;
  if (split === 'train') {
    const labelFile = join(dir, 'train_label.txt');
    if (!isFile(labelFile)) throw missingFileError(labelFile, null, 'the train labels, one float per line aligned with train_img.txt');
    const { values } = await readLabels(labelFile);
    if (values.length !== n) throw new UserError(`${labelFile}: has ${values.length} labels but ${imgFile} has ${n} lines (they must be aligned line by line)`);
    label = Float64Array.from(values);
    sources.push(resolve(labelFile));
  }

  // Rows are the lines of the image list; the first file with a Pid field (in ID_ORDER) gives
  // the post ids by position; files before it are aligned by position, files after it are
  // joined on Pid when they have one.
  const optional = new Set(opts.optional ?? []);
  const cols = new ColumnsBuilder(n);
  let ids: { pid: string[]; uid: string[] } | null = null;
  let rowOf = new Map<string, number>();
  for (const group of ID_ORDER) {
    const file = join(dir, `${split}_${SMPD_2019_FILES[group]}`);
    if (!isFile(file)) {
      if (optional.has(group)) continue;
      throw missingFileError(file, group, `the ${group} metadata of the ${split} posts`);
    }
    const res = await joinJsonFile(file, rowOf, cols, {
      byPosition: ids === null,
      countError: (records) => `${file}: has ${records} records but ${imgFile} has ${n} lines (rows are aligned by position in the 2019/2020 layout)`,
    });
    if (ids === null && res.ids !== null) {
      ids = res.ids;
      rowOf = new Map(ids.pid.map((p, i) => [p, i]));
    }
    warnJoin(opts, file, imgFile, res);
    sources.push(resolve(file));
  }
  if (!ids) {
    throw new UserError(`${dir}: none of the ${split} metadata files with a Pid field is present (${ID_ORDER.slice(0, 4).map((g) => `${split}_${SMPD_2019_FILES[g]}`).join(', ')}); the post ids cannot be known`);
  }
  const { pid, uid } = ids;
  const url = cols.stringColumn('img_url');
  const media: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    url[i] = lines[i];
    media[i] = mediaFromImgLine(root, split, lines[i]);
  }
  return { split, n, pid, uid, label, media, columns: cols.columns, sources };
}
