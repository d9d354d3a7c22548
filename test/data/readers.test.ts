import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.ts';
import { countUserDuplicates } from '../../core/data/smp-video.ts';
import { readDataset } from '../../core/data/read-dataset.ts';
import type { Column } from '../../core/data/table.ts';

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
