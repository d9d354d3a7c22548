import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.ts';
import { countUserDuplicates } from '../../core/data/smp-video.ts';
import { forEachJsonToken, setReadChunkSize, streamJsonTable } from '../../core/data/json-stream.ts';
import { type ReadDatasetOptions, readDataset } from '../../core/data/read-dataset.ts';
import { synthImage } from '../../core/data/synth-image.ts';
import { synthVideo } from '../../core/data/synth-video.ts';
import type { Column, Table } from '../../core/data/table.ts';
import { cutVideoCopy } from '../helpers.ts';

/** ../shared/data beside the checkout (never copied into the repo). */
const SHARED = fileURLToPath(new URL('../../../shared/data', import.meta.url));
const EXCERPT = join(SHARED, 'smpd-image-excerpt');
const VIDEO = join(SHARED, 'smp-video');

const tmpRoots: string[] = [];
function tmp(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `smp-readers-${name}-`));
  tmpRoots.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

function str(c: Column | undefined): (string | null)[] {
  if (!c || c.type !== 'string') throw new Error(`not a string column: ${c?.type}`);
  return c.values;
}
function num(c: Column | undefined): Float64Array {
  if (!c || c.type !== 'number') throw new Error(`not a number column: ${c?.type}`);
  return c.values;
}

async function errorOf(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('expected a UserError');
}

describe('real SMPD image excerpt (test split, 24 posts)', () => {
  it('reads category and additional information with the other groups optional', async () => {
    const t = await readDataset(EXCERPT, { splits: ['test'], optional: ['text', 'temporal', 'user'] });
    expect(t.track).toBe('image');
    expect(t.n).toBe(24);
    expect(t.nTrain).toBe(0);
    expect(t.nTest).toBe(24);
    expect(t.pid.slice(0, 3)).toEqual(['50731', '96454', '172136']);
    expect(t.uid.slice(0, 3)).toEqual(['8770@N36', '10082@N16', '10082@N16']);
    expect(t.label.every((x) => Number.isNaN(x))).toBe(true);
    expect(t.media[0]).toBe(resolve(EXCERPT, 'test/8770@N36/50731.jpg'));
    // joined on Pid: first row's category/additional belong to Pid 50731
    expect(str(t.columns.category)[0]).toBe('Social&People');
    expect(str(t.columns.subcategory)[0]).toBe('Love');
    expect(str(t.columns.concept)[0]).toBe('hugs');
    expect(str(t.columns.pathalias)[0]).toBeNull(); // "None"
    expect(str(t.columns.pathalias)[1]).toBe('90250231n0510041136096');
    expect(num(t.columns.ispublic)[0]).toBe(1);
    expect(str(t.columns.mediastatus)[0]).toBe('ready');
    expect(str(t.columns.category).every((c) => c !== null)).toBe(true);
    expect(t.sources.length).toBe(3);
  });

  it('without optional groups: a clear error naming the text file and how to mark it optional', async () => {
    const e = await errorOf(readDataset(EXCERPT, { splits: ['test'] }));
    expect(e.message).toContain(join(EXCERPT, 'test', 'test_text.json'));
    expect(e.message).toContain('data.optional: [text]');
  });

  it('asking for a train split that is not there says which folder and how to read test only', async () => {
    const e = await errorOf(readDataset(EXCERPT, { optional: ['text', 'temporal', 'user'] }));
    expect(e.message).toContain(join(EXCERPT, 'train'));
    expect(e.message).toContain("splits: ['test']");
  });
});

describe('real SMP-Video data (3,200 train, 2,000 test)', () => {
  it('reads all posts, labels for train only, users joined with duplicates merged', async () => {
    const warnings: string[] = [];
    const t = await readDataset(VIDEO, { onWarning: (m) => warnings.push(m) });
    expect(t.track).toBe('video');
    expect(t.nTrain).toBe(3200);
    expect(t.nTest).toBe(2000);
    expect(t.n).toBe(5200);
    expect(t.pid[0]).toBe('POST00000548');
    expect(t.uid[0]).toBe('USER00002917');
    expect(t.pid[3200]).toBe('POST00005596');
    expect(new Set(t.pid).size).toBe(5200);
    for (let i = 0; i < 3200; i++) expect(Number.isFinite(t.label[i])).toBe(true);
    for (let i = 3200; i < 5200; i++) expect(Number.isNaN(t.label[i])).toBe(true);
    expect(t.label[0]).toBeCloseTo(9.7);
    // "2022-08-25 16:15" UTC
    expect(num(t.columns.postdate)[0]).toBe(Date.UTC(2022, 7, 25, 16, 15) / 1000);
    expect(str(t.columns.title)[0]).toMatch(/^falconry,falconer,/);
    const tags = t.columns.tags;
    expect(tags.type === 'list' && tags.values[0].slice(0, 2)).toEqual(['falconry', 'falconer']);
    const sw = t.columns.suggested_words;
    expect(sw.type === 'list' && sw.values[0][0]).toBe('falconry');
    expect(t.media[0]).toBe(resolve(VIDEO, 'train/USER00002917/VIDEO00001378.mp4'));
    // every post has its video and its user
    for (const c of ['video_duration', 'user_follower_count', 'music_duration']) {
      expect(num(t.columns[c]).every((x) => Number.isFinite(x))).toBe(true);
    }
    expect(str(t.columns.vid).every((x) => x !== null)).toBe(true);
    // test users file repeats identical rows: merged silently, no conflict warning
    const dup = await countUserDuplicates(join(VIDEO, 'test', 'SMP-Video_anonymized_users_test.jsonl'));
    expect(dup.identical).toBeGreaterThan(0);
    expect(dup.conflicting).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('conflicting duplicate users keep the first row and are counted in a warning', async () => {
    const root = tmp('video-dups');
    mkdirSync(join(root, 'test'), { recursive: true });
    const w = (f: string, rows: object[]) => writeFileSync(join(root, 'test', f), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    w('SMP-Video_anonymized_posts_test.jsonl', [
      { pid: 'P1', uid: 'U1', post_content: 'a,b', post_time: '2023-09-01 10:00', post_suggested_words: [], video_path: 'test/U1/V1.mp4' },
      { pid: 'P2', uid: 'U2', post_content: '', post_time: '2023-09-02 11:30', post_suggested_words: ['x'], video_path: 'test/U2/V2.mp4' },
    ]);
    w('SMP-Video_anonymized_videos_test.jsonl', [
      { vid: 'V2', pid: 'P2', uid: 'U2', video_duration: 20 },
      { vid: 'V1', pid: 'P1', uid: 'U1', video_duration: 10 },
    ]);
    w('SMP-Video_anonymized_users_test.jsonl', [
      { uid: 'U1', user_follower_count: 5 },
      { uid: 'U1', user_follower_count: 5 },
      { uid: 'U2', user_follower_count: 7 },
      { uid: 'U2', user_follower_count: 9 },
    ]);
    const warnings: string[] = [];
    const t = await readDataset(root, { splits: ['test'], onWarning: (m) => warnings.push(m) });
    expect(t.pid).toEqual(['P1', 'P2']);
    expect(Array.from(num(t.columns.user_follower_count))).toEqual([5, 7]);
    expect(Array.from(num(t.columns.video_duration))).toEqual([10, 20]);
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain('1 uid(s) have conflicting duplicate rows');
    expect(warnings[0]).toContain('"U2" (lines 3 and 4)');
  });

  it('a bad jsonl line names file:line', async () => {
    const root = tmp('video-bad');
    mkdirSync(join(root, 'test'), { recursive: true });
    const posts = join(root, 'test', 'SMP-Video_anonymized_posts_test.jsonl');
    writeFileSync(posts, '{"pid": "P1", "uid": "U1", "post_time": "2023-09-01 10:00"}\n{"pid": "P2", "uid": \n');
    const e = await errorOf(readDataset(root, { splits: ['test'], optional: ['video', 'user'] }));
    expect(e.message).toContain(`${posts}:2`);
  });
});

// ---- a minimal 2023+ image layout written by the tests ----------------------------------------

interface Post {
  uid: string;
  pid: string;
}
const POSTS: Post[] = [
  { uid: '1@N1', pid: '11' },
  { uid: '2@N2', pid: '22' },
  { uid: '1@N1', pid: '33' },
];

function writeImageLayout(root: string, over: Partial<Record<string, string>> = {}): void {
  for (const split of ['train', 'test']) {
    const dir = join(root, split);
    mkdirSync(dir, { recursive: true });
    const posts = split === 'train' ? POSTS : [{ uid: '3@N3', pid: '44' }];
    const files: Record<string, string> = {
      img_filepath: posts.map((p) => `${split}/${p.uid}/${p.pid}.jpg`).join('\n') + '\n',
      category: JSON.stringify([...posts].reverse().map((p) => ({ Uid: p.uid, Pid: p.pid, Category: `c${p.pid}`, Subcategory: 's', Concept: 'k' }))),
      text: JSON.stringify(posts.map((p) => ({ Uid: p.uid, Pid: p.pid, Title: `title ${p.pid}`, Mediatype: 'photo', Alltags: 'a b  c' }))),
      temporalspatial_information: JSON.stringify(posts.map((p, i) => ({ Uid: p.uid, Pid: p.pid, Postdate: String(1450000000 + i), Latitude: i === 0 ? '0' : '52.5', Longitude: '', Geoaccuracy: '16' }))),
      additional_information: JSON.stringify(posts.map((p) => ({ Uid: p.uid, Pid: p.pid, Pathalias: 'None', Ispublic: '1', Mediastatus: 'ready' }))),
      user_data: JSON.stringify({
        Uid: Object.fromEntries(posts.map((p, i) => [String(i), p.uid])),
        Pid: Object.fromEntries(posts.map((p, i) => [String(i), p.pid])),
        photo_count: Object.fromEntries(posts.map((p, i) => [String(i), 10 + i])),
        user_description: Object.fromEntries(posts.map((p, i) => [String(i), Array.from({ length: 399 }, (_, k) => String((k + i) / 100)).join(',')])),
        location_description: Object.fromEntries(posts.map((p, i) => [String(i), i === 1 ? '' : Array.from({ length: 400 }, () => '0.5').join(',')])),
      }),
    };
    if (split === 'train') files.label = '1.5\n2.5\n3.5\n';
    for (const [name, text] of Object.entries(files)) {
      const ext = name === 'img_filepath' || name === 'label' ? 'txt' : 'json';
      const file = `${split}_${name}.${ext}`;
      writeFileSync(join(dir, file), over[file] ?? text);
    }
  }
}

describe('strict data: records whose post id is not a row', () => {
  it('SMP-Video posts file cut to 1,500 lines: an error naming both files, the count and the first ids', async () => {
    const root = cutVideoCopy(tmp('video-cut'), 1500);
    const posts = join(root, 'train', 'SMP-Video_anonymized_posts_train.jsonl');
    const e = await errorOf(readDataset(root));
    expect(e.message).toContain(`${join(root, 'train', 'SMP-Video_anonymized_popularity_train.jsonl')}: 1700 record(s) have a pid that is not in ${posts}`);
    const firstCut = JSON.parse(readFileSync(join(VIDEO, 'train', 'SMP-Video_anonymized_posts_train.jsonl'), 'utf8').split('\n')[1500]).pid as string;
    expect(e.message).toContain(`(first: "${firstCut}"`);
    expect(e.message).toContain('data: { strict: false }');
  });

  it('strict: false turns it into warnings and keeps the rows that are there', async () => {
    const root = cutVideoCopy(tmp('video-cut-lax'), 1500);
    const warnings: string[] = [];
    const t = await readDataset(root, { strict: false, onWarning: (m) => warnings.push(m) });
    expect(t.nTrain).toBe(1500);
    expect(warnings.filter((w) => w.includes('1700 record(s) have a pid that is not in') && w.endsWith('(ignored)')).length).toBe(2); // popularity and videos
  });

  it('SMPD image track: a metadata record not in the image list is an error naming the list', async () => {
    const root = tmp('img-extra');
    const extra = JSON.stringify([...POSTS, { uid: '9@N9', pid: '99' }].map((p) => ({ Uid: p.uid, Pid: p.pid, Category: 'c', Subcategory: 's', Concept: 'k' })));
    writeImageLayout(root, { 'train_category.json': extra });
    const e = await errorOf(readDataset(root));
    expect(e.message).toContain(`${join(root, 'train', 'train_category.json')}: 1 record(s) have a Pid that is not in ${join(root, 'train', 'train_img_filepath.txt')} (first: "99")`);
    const warnings: string[] = [];
    await readDataset(root, { strict: false, onWarning: (m) => warnings.push(m) });
    expect(warnings.some((w) => w.includes('1 record(s) have a Pid'))).toBe(true);
  });
});

describe('SMPD 2023+ layout (fixture)', () => {
  it('reads rows in image-list order, joins on Pid, columnar user data into vectors', async () => {
    const root = tmp('img');
    writeImageLayout(root);
    const t = await readDataset(root);
    expect(t.pid).toEqual(['11', '22', '33', '44']);
    expect(t.uid).toEqual(['1@N1', '2@N2', '1@N1', '3@N3']);
    expect(Array.from(t.label.subarray(0, 3))).toEqual([1.5, 2.5, 3.5]);
    expect(Number.isNaN(t.label[3])).toBe(true);
    expect(str(t.columns.category)).toEqual(['c11', 'c22', 'c33', 'c44']);
    expect(str(t.columns.title)[1]).toBe('title 22');
    const tags = t.columns.tags;
    expect(tags.type === 'list' && tags.values[0]).toEqual(['a', 'b', 'c']);
    expect(Array.from(num(t.columns.postdate))).toEqual([1450000000, 1450000001, 1450000002, 1450000000]);
    expect(Number.isNaN(num(t.columns.latitude)[0])).toBe(true); // "0" = missing
    expect(Number.isNaN(num(t.columns.longitude)[1])).toBe(true); // "" = missing
    const ud = t.columns.user_description;
    expect(ud.type === 'vector' && ud.dim).toBe(399);
    if (ud.type === 'vector') expect(ud.values[399 * 1 + 2]).toBeCloseTo(0.03);
    const ld = t.columns.location_description;
    expect(ld.type === 'vector' && ld.dim).toBe(400);
    if (ld.type === 'vector') {
      expect(Number.isNaN(ld.values[400])).toBe(true); // row 1 empty
      expect(ld.values[0]).toBeCloseTo(0.5);
    }
    expect(Array.from(num(t.columns.photo_count))).toEqual([10, 11, 12, 10]);
    expect(t.media[1]).toBe(resolve(root, 'train/2@N2/22.jpg'));
  });

  it('truncated JSON: names the file and the line:column', async () => {
    const root = tmp('trunc');
    const good = JSON.stringify([{ Uid: '1@N1', Pid: '11', Category: 'c' }, { Uid: '2@N2', Pid: '22', Category: 'c' }], null, 1);
    writeImageLayout(root, { 'train_category.json': good.slice(0, good.length - 30) });
    const e = await errorOf(readDataset(root));
    const file = join(root, 'train', 'train_category.json');
    expect(e.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+ invalid JSON`));
  });

  it('non-numeric label line: names file:line', async () => {
    const root = tmp('label');
    writeImageLayout(root, { 'train_label.txt': '1.5\n2.5x\n3.5\n' });
    const e = await errorOf(readDataset(root));
    expect(e.message).toContain(`${join(root, 'train', 'train_label.txt')}:2`);
    expect(e.message).toContain('"2.5x" is not a number');
  });

  it('duplicated Pid: names the file and both records', async () => {
    const root = tmp('dup');
    const recs = [
      { Uid: '1@N1', Pid: '11', Title: 't', Mediatype: 'photo', Alltags: '' },
      { Uid: '2@N2', Pid: '22', Title: 't', Mediatype: 'photo', Alltags: '' },
      { Uid: '1@N1', Pid: '11', Title: 'u', Mediatype: 'photo', Alltags: '' },
    ];
    writeImageLayout(root, { 'train_text.json': JSON.stringify(recs) });
    const e = await errorOf(readDataset(root));
    expect(e.message).toContain(join(root, 'train', 'train_text.json'));
    expect(e.message).toContain('duplicated Pid "11"');
    expect(e.message).toContain('record 0');
    expect(e.message).toContain('record 2');
  });

  it('duplicated Pid in the image list: names file and both lines', async () => {
    const root = tmp('dup-list');
    writeImageLayout(root, { 'train_img_filepath.txt': 'train/1@N1/11.jpg\ntrain/2@N2/22.jpg\ntrain/1@N1/11.jpg\n' });
    const e = await errorOf(readDataset(root));
    expect(e.message).toContain(`${join(root, 'train', 'train_img_filepath.txt')}:3`);
    expect(e.message).toContain('line 1');
  });

  it('a wrong type names file, record and field', async () => {
    const root = tmp('type');
    const recs = POSTS.map((p, i) => ({ Uid: p.uid, Pid: p.pid, Postdate: i === 1 ? 'yesterday' : '1450000000', Latitude: '', Longitude: '', Geoaccuracy: '0' }));
    writeImageLayout(root, { 'train_temporalspatial_information.json': JSON.stringify(recs) });
    const e = await errorOf(readDataset(root));
    expect(e.message).toContain(`${join(root, 'train', 'train_temporalspatial_information.json')} record 1 field "Postdate"`);
  });

  it('missing data folder: names the folder and what was expected there', async () => {
    const missing = join(tmp('missing'), 'no-such-data');
    const e = await errorOf(readDataset(missing));
    expect(e.message).toContain(missing);
    expect(e.message).toContain('data folder not found');
    expect(e.message).toContain('img_filepath.txt');
  });

  it('an empty folder: says which layouts were looked for', async () => {
    const e = await errorOf(readDataset(tmp('empty')));
    expect(e.message).toContain('no dataset found');
    expect(e.message).toContain('train_all_json');
  });
});

describe('SMPD 2019/2020 layout (fixture)', () => {
  it('rows in img/label order, Pid from the metadata, other files joined on Pid, userdata by position', async () => {
    const root = tmp('2019');
    const train = join(root, 'train_all_json');
    const test = join(root, 'test_all_json');
    mkdirSync(train, { recursive: true });
    mkdirSync(test, { recursive: true });
    const tr = [
      { Uid: '59@N75', Pid: '775', url: 'https://www.flickr.com/photos/7107177@N05/23511051534' },
      { Uid: '12@N01', Pid: '776', url: 'https://www.flickr.com/photos/1234@N01/9876' },
    ];
    writeFileSync(join(train, 'train_img.txt'), tr.map((r) => r.url).join('\n') + '\n');
    writeFileSync(join(train, 'train_label.txt'), '11.18\n7.5\n');
    writeFileSync(join(train, 'train_category.json'), JSON.stringify(tr.map((r) => ({ Uid: r.Uid, Pid: r.Pid, Category: 'Fashion', Subcategory: 'Shoes', Concept: 'sneaker' }))));
    // stored in another order: must be joined on Pid
    writeFileSync(join(train, 'train_tags.json'), JSON.stringify([...tr].reverse().map((r) => ({ Uid: r.Uid, Pid: r.Pid, Title: `T${r.Pid}`, Mediatype: 'photo', Alltags: 'x y' }))));
    writeFileSync(join(train, 'train_temporalspatial.json'), JSON.stringify(tr.map((r, i) => ({ Uid: r.Uid, Pid: r.Pid, Postdate: 1446016778 + i, Latitude: '0', Longitude: '0', Geoaccuracy: '0' }))));
    writeFileSync(join(train, 'train_additional.json'), JSON.stringify(tr.map((r) => ({ Uid: r.Uid, Pid: r.Pid, Pathalias: 'someone', Ispublic: 1, Mediastatus: 'ready' }))));
    // records without Pid, aligned by position; 2019 name timezone_timezone_id
    writeFileSync(
      join(train, 'train_userdata.json'),
      JSON.stringify(tr.map((_, i) => ({ photo_count: 100 + i, ispro: 0, canbuypro: 1, timezone_offset: '+08:00', timezone_timezone_id: 'Asia/Shanghai', photo_firstdate: 'None', photo_firstdatetaken: '1230000000', user_description: Array.from({ length: 399 }, () => '0.1').join(','), location_description: '' }))),
    );
    const te = [{ Uid: '99@N99', Pid: '901' }];
    writeFileSync(join(test, 'test_imgfile.txt'), 'test/99@N99/901.jpg\n');
    writeFileSync(join(test, 'test_category.json'), JSON.stringify(te.map((r) => ({ ...r, Category: 'Food', Subcategory: 'Cake', Concept: 'cake' }))));
    writeFileSync(join(test, 'test_tags.json'), JSON.stringify(te.map((r) => ({ ...r, Title: 'cake', Mediatype: 'photo', Alltags: 'cake' }))));
    writeFileSync(join(test, 'test_temporalspatial.json'), JSON.stringify(te.map((r) => ({ ...r, Postdate: '1457239452', Latitude: '52.520213', Longitude: '13.373097', Geoaccuracy: '16' }))));
    writeFileSync(join(test, 'test_additional.json'), JSON.stringify(te.map((r) => ({ ...r, Pathalias: 'None', Ispublic: '1', Mediastatus: 'ready' }))));
    // test userdata absent: marked optional
    const t = await readDataset(root, { optional: ['user'] });
    expect(t.track).toBe('image');
    expect(t.pid).toEqual(['775', '776', '901']);
    expect(t.uid).toEqual(['59@N75', '12@N01', '99@N99']);
    expect(Array.from(t.label.subarray(0, 2))).toEqual([11.18, 7.5]);
    expect(str(t.columns.title)).toEqual(['T775', 'T776', 'cake']);
    expect(Array.from(num(t.columns.postdate))).toEqual([1446016778, 1446016779, 1457239452]);
    expect(Array.from(num(t.columns.photo_count)).slice(0, 2)).toEqual([100, 101]);
    expect(Number.isNaN(num(t.columns.photo_count)[2])).toBe(true);
    expect(str(t.columns.timezone_id)[0]).toBe('Asia/Shanghai');
    expect(num(t.columns.timezone_offset)[0]).toBe(8); // "+08:00"
    expect(Number.isNaN(num(t.columns.photo_firstdate)[0])).toBe(true);
    const ud = t.columns.user_description;
    expect(ud.type === 'vector' && ud.dim).toBe(399);
    expect(t.columns.location_description).toBeUndefined(); // all empty
    expect(t.media[0]).toBe(resolve(root, 'train/7107177@N05/23511051534.jpg'));
    expect(t.media[2]).toBe(resolve(root, 'test/99@N99/901.jpg'));
    expect(str(t.columns.img_url)[1]).toBe('https://www.flickr.com/photos/1234@N01/9876');

    // without marking user optional: the error names the missing test userdata file
    const e = await errorOf(readDataset(root));
    expect(e.message).toContain(join(test, 'test_userdata.json'));
    expect(e.message).toContain('data.optional: [user]');
  });
});

// ---- streaming: chunk sizes, columnar order, unreadable files ---------------------------------

afterEach(() => setReadChunkSize(null));

async function readWithChunk(bytes: number | null, root: string, opts: ReadDatasetOptions = {}): Promise<Table> {
  setReadChunkSize(bytes);
  try {
    return await readDataset(root, opts);
  } finally {
    setReadChunkSize(null);
  }
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('chunk size does not change what is read', () => {
  it('real SMPD excerpt: 7-byte chunks read the same Table as 1 MiB chunks', async () => {
    const opts = { splits: ['test' as const], optional: ['text', 'temporal', 'user'] };
    const a = await readWithChunk(null, EXCERPT, opts);
    const b = await readWithChunk(7, EXCERPT, opts);
    expect(b).toEqual(a);
    expect(a.n).toBe(24);
  });

  it('real SMP-Video test split: 509-byte chunks read the same Table', async () => {
    const a = await readWithChunk(null, VIDEO, { splits: ['test'] });
    const b = await readWithChunk(509, VIDEO, { splits: ['test'] });
    expect(b).toEqual(a);
    expect(a.n).toBe(2000);
  });

  it('synthetic video set: 7-byte chunks read the same Table', async () => {
    const root = tmp('stream-video');
    await synthVideo({ out: root, posts: 60, seed: 5 });
    const a = await readWithChunk(null, root);
    const b = await readWithChunk(7, root);
    expect(b).toEqual(a);
    expect(a.n).toBe(60);
  });
});

describe('synthetic SMPD image set, columnar user data', () => {
  let root: string;
  let base: Table;
  const userFile = () => join(root, 'train', 'train_user_data.json');
  beforeAll(async () => {
    root = tmp('stream-img');
    await synthImage({ out: root, posts: 40, seed: 3, concurrency: 1 });
    base = await readDataset(root);
  });

  it('user vectors read from the columnar file, 7-byte chunks identical', async () => {
    const ud = base.columns.user_description;
    expect(ud.type === 'vector' && ud.dim).toBe(399);
    expect(await readWithChunk(7, root)).toEqual(base);
  });

  it('Pid after the vectors (two passes) and Uid last: the same Table, any chunk size', async () => {
    const orig = readFileSync(userFile(), 'utf8');
    const cols = JSON.parse(orig) as Record<string, unknown>;
    const { Uid, Pid, ...rest } = cols;
    // reversed rows in the index too: records are joined on Pid, not on position
    const reverse = (c: unknown) => Object.fromEntries(Object.entries(c as Record<string, unknown>).reverse());
    const moved = Object.fromEntries([...Object.entries(rest).map(([k, v]) => [k, reverse(v)]), ['Pid', reverse(Pid)], ['Uid', reverse(Uid)]]);
    writeFileSync(userFile(), JSON.stringify(moved, null, 1));
    try {
      const a = await readWithChunk(null, root);
      expect(a.columns).toEqual(base.columns);
      expect(Object.keys(a.columns)).toEqual(Object.keys(base.columns));
      expect(await readWithChunk(7, root)).toEqual(a);
    } finally {
      writeFileSync(userFile(), orig);
    }
  });

  it('duplicated Pid in a columnar file after the vectors: names both records', async () => {
    const orig = readFileSync(userFile(), 'utf8');
    const cols = JSON.parse(orig) as Record<string, Record<string, unknown>>;
    const { Pid, ...rest } = cols;
    const pids = { ...Pid, '5': Pid['2'] };
    writeFileSync(userFile(), JSON.stringify({ ...rest, Pid: pids }));
    try {
      const e = await errorOf(readWithChunk(7, root));
      expect(e.message).toContain(userFile());
      expect(e.message).toContain(`duplicated Pid "${Pid['2']}" (first in record 2, again in record 5)`);
    } finally {
      writeFileSync(userFile(), orig);
    }
  });

  it('a truncated columnar file: file:line:col and "looks truncated", any chunk size', async () => {
    const orig = readFileSync(userFile(), 'utf8');
    const pretty = JSON.stringify(JSON.parse(orig), null, 1);
    const cut = pretty.slice(0, Math.floor(pretty.length * 0.6)).trimEnd();
    writeFileSync(userFile(), cut + '\n\n');
    const lines = cut.split('\n');
    const where = `${userFile()}:${lines.length}:${lines[lines.length - 1].length}`;
    try {
      for (const chunk of [null, 7, 4096]) {
        const e = await errorOf(readWithChunk(chunk, root));
        expect(e.message).toMatch(new RegExp(`^${esc(where)} invalid JSON: .*\\(the file looks truncated\\)$`));
      }
    } finally {
      writeFileSync(userFile(), orig);
    }
  });
});

describe('JSON files that cannot be read are UserErrors', () => {
  const dir = () => tmp('stream-bad');
  const write = (text: string) => {
    const f = join(dir(), 'f.json');
    writeFileSync(f, text);
    return f;
  };
  const walk = (f: string) => streamJsonTable(f, { record() {}, column: () => () => {} });

  it('a syntax error mid-file names its line and column with any chunk size', async () => {
    const f = write('[\n {"Pid": "1", "a": 2},\n {"Pid": "2", "a": }\n]\n');
    for (const chunk of [null, 1, 7]) {
      setReadChunkSize(chunk);
      const e = await errorOf(walk(f));
      expect(e.message).toBe(`${f}:3:20 invalid JSON: expected a value`);
    }
  });

  it('missing file, a folder, an empty file, not JSON, wrong shapes', async () => {
    const d = dir();
    expect((await errorOf(walk(join(d, 'nope.json')))).message).toBe(`${join(d, 'nope.json')}: file not found`);
    expect((await errorOf(walk(d))).message).toContain('is a folder');
    expect((await errorOf(walk(write('  \n')))).message).toContain('the file is empty');
    expect((await errorOf(walk(write('\x00\x01PNG garbage')))).message).toMatch(/:1:1 invalid JSON/);
    expect((await errorOf(walk(write('42')))).message).toContain('expected a JSON array of records or a columnar object, got number 42');
    expect((await errorOf(walk(write('[{"a": 1}, 3]')))).message).toContain('record 1: expected an object, got number 3');
    expect((await errorOf(walk(write('{"Pid": ["1", "2"]}')))).message).toContain('column "Pid": expected an object of {row index: value}');
  });

  it('tokens: values split across 1-byte chunks arrive whole, a BOM is dropped', async () => {
    const f = write('\ufeff{"k\\u00e9y": ["a long string, with \\"escapes\\" and é", -12.5e-3, true, null]}');
    const read = async () => {
      const out: unknown[] = [];
      await forEachJsonToken(f, (t) => out.push('value' in t ? t.value : t.name));
      return out;
    };
    const a = await read();
    setReadChunkSize(1);
    expect(await read()).toEqual(a);
    expect(a).toEqual(['startObject', 'kéy', 'startArray', 'a long string, with "escapes" and é', '-12.5e-3', true, null, 'endArray', 'endObject']);
  });
});

describe('columnar file without Pid (joined by position)', () => {
  it('a hand-written 2023+ split whose user data has no Pid column: rows by position', async () => {
    const root = tmp('stream-nopid');
    const d = join(root, 'test');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'test_img_filepath.txt'), 'test/u1/11.jpg\ntest/u2/22.jpg\n');
    writeFileSync(join(d, 'test_user_data.json'), JSON.stringify({ photo_count: { 0: '5', 1: 7 }, user_description: { 0: '0.5,1.5', 1: '' } }));
    for (const chunk of [null, 3]) {
      const t = await readWithChunk(chunk, root, { splits: ['test'], optional: ['category', 'text', 'temporal', 'additional'] });
      const pc = t.columns.photo_count;
      expect(pc.type === 'number' && Array.from(pc.values)).toEqual([5, 7]);
      const ud = t.columns.user_description;
      expect(ud.type === 'vector' && Array.from(ud.values)).toEqual([0.5, 1.5, NaN, NaN]);
    }
  });
});
