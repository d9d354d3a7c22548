import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../core/cache/npy.ts';
import { readDataset } from '../../core/data/read-dataset.ts';
import { synthImage } from '../../core/data/synth-image.ts';
import { synthVideo } from '../../core/data/synth-video.ts';
import type { Table } from '../../core/data/table.ts';
import { src } from '../../core/eval/metrics.ts';

const roots: string[] = [];
function tmp(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `smp-synth-${name}-`));
  roots.push(d);
  return d;
}
afterAll(() => {
  for (const d of roots) rmSync(d, { recursive: true, force: true });
});

/** Every file under dir, relative path -> bytes. */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

function expectSameFiles(a: string, b: string): void {
  const sa = snapshot(a);
  const sb = snapshot(b);
  expect([...sa.keys()].sort()).toEqual([...sb.keys()].sort());
  for (const [k, v] of sa) expect(v.equals(sb.get(k)!), `${k} differs`).toBe(true);
}

/** User vectors of the real dimensions, columnar pandas user data, no test label file. */
function expectUserData(root: string, t: Table, split: 'train' | 'test', rows: number): void {
  const ud = t.columns.user_description;
  const ld = t.columns.location_description;
  expect(ud.type === 'vector' && ud.dim).toBe(399);
  expect(ld.type === 'vector' && ld.dim).toBe(400);
  const user = JSON.parse(readFileSync(join(root, split, `${split}_user_data.json`), 'utf8'));
  expect(Object.keys(user.Pid)).toHaveLength(rows);
  expect(user.user_description['0'].split(',')).toHaveLength(399);
  expect(existsSync(join(root, 'test', 'test_label.txt'))).toBe(false);
}

describe('synthImage', () => {
  const N = 80;
  let root: string;
  let t: Table;
  beforeAll(async () => {
    root = tmp('img');
    expect(await synthImage({ out: root, posts: N, seed: 11 })).toEqual({ train: 60, test: 20 });
    t = await readDataset(root);
  });

  it('round trip: counts, ids, order and labels as written', () => {
    expect(t.track).toBe('image');
    expect(t.nTrain).toBe(60);
    expect(t.nTest).toBe(20);
    const list = (s: string) => readFileSync(join(root, s, `${s}_img_filepath.txt`), 'utf8').trim().split('\n');
    const paths = [...list('train'), ...list('test')];
    expect(t.pid).toEqual(paths.map((p) => p.split('/')[2].replace(/\.(jpg|png)$/, '')));
    expect(t.uid).toEqual(paths.map((p) => p.split('/')[1]));
    expect(new Set(t.pid).size).toBe(N);
    const labels = readFileSync(join(root, 'train', 'train_label.txt'), 'utf8').trim().split('\n').map(Number);
    expect(Array.from(t.label.subarray(0, 60))).toEqual(labels);
    expect(t.label.subarray(60).every((x) => Number.isNaN(x))).toBe(true);
    // split by time: every test post is newer than every train post
    const pd = t.columns.postdate;
    if (pd.type !== 'number') throw new Error('postdate');
    expect(Math.max(...pd.values.subarray(0, 60))).toBeLessThanOrEqual(Math.min(...pd.values.subarray(60)));
    // all groups present, vectors of the real dimensions
    for (const c of ['category', 'subcategory', 'concept', 'title', 'mediatype', 'tags', 'latitude', 'geoaccuracy', 'pathalias', 'ispublic', 'photo_count', 'ispro', 'timezone_id']) {
      expect(t.columns[c], c).toBeDefined();
    }
    const tz = t.columns.timezone_offset;
    expect(tz.type === 'number' && tz.values.every((x) => Number.isFinite(x))).toBe(true);
    expectUserData(root, t, 'test', 20);
    expect(existsSync(join(root, 'README.md'))).toBe(true);
  });

  it('writes real, varied images where the list says', async () => {
    const formats = new Set<string>();
    const widths = new Set<number>();
    for (const m of t.media) {
      const meta = await sharp(m!).metadata();
      formats.add(meta.format!);
      widths.add(meta.width!);
      expect(meta.width).toBeGreaterThanOrEqual(64);
      expect(meta.width).toBeLessThanOrEqual(320);
      expect(m!.endsWith(meta.format === 'png' ? '.png' : '.jpg')).toBe(true);
    }
    expect([...formats].sort()).toEqual(['jpeg', 'png']);
    expect(widths.size).toBeGreaterThan(20);
    // no temp files left behind
    expect([...snapshot(root).keys()].some((k) => k.includes('.tmp-'))).toBe(false);
  });

  it('same seed gives byte-identical files, another seed differs', async () => {
    const a = tmp('det-a');
    const b = tmp('det-b');
    const c = tmp('det-c');
    await synthImage({ out: a, posts: 30, seed: 5 });
    await synthImage({ out: b, posts: 30, seed: 5 });
    await synthImage({ out: c, posts: 30, seed: 6 });
    expectSameFiles(a, b);
    expect(readFileSync(join(a, 'train', 'train_label.txt')).equals(readFileSync(join(c, 'train', 'train_label.txt')))).toBe(false);
  });

  it('the planted user signal shows in the data (user_description[0] vs label)', () => {
    const ud = t.columns.user_description;
    if (ud.type !== 'vector') throw new Error('vector');
    const x = Array.from({ length: t.nTrain }, (_, i) => ud.values[i * ud.dim]);
    expect(src(t.label.subarray(0, t.nTrain), x)).toBeGreaterThan(0.4);
  });
});

describe('synthImage without images, with embeddings', () => {
  const opts = { train: 300, test: 100, seed: 21, images: false, embeddings: [{ name: 'image' as const, dim: 16 }, { name: 'text' as const, dim: 12 }], missingShare: 0.01 };
  let root: string;
  let t: Table;
  beforeAll(async () => {
    root = tmp('noimg');
    expect(await synthImage({ out: root, ...opts })).toEqual({ train: 300, test: 100 });
    t = await readDataset(root);
  });

  it('writes the SMPD layout without image files, plus held-out answers', () => {
    const files = [...snapshot(root).keys()].sort();
    expect(files.filter((f) => /\.(jpg|png)$/.test(f))).toEqual([]);
    expect(files.some((k) => k.includes('.tmp-'))).toBe(false);
    for (const s of ['train', 'test'])
      for (const f of ['img_filepath.txt', 'category.json', 'text.json', 'temporalspatial_information.json', 'additional_information.json', 'user_data.json'])
        expect(files, `${s}_${f}`).toContain(join(s, `${s}_${f}`));
    expect(t.nTrain).toBe(300);
    expect(t.nTest).toBe(100);
    expectUserData(root, t, 'train', 300);
    const answers = readFileSync(join(root, 'answers', 'test_label.txt'), 'utf8').trim().split('\n').map(Number);
    expect(answers).toHaveLength(100);
    expect(answers.every((x) => Number.isFinite(x) && x >= 0)).toBe(true);
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toMatch(/a1.*a2.*t1/s);
  });

  it('embeddings: float32 npy of the right shape, ids a shuffled permutation minus the absent posts', () => {
    const pids = new Set(t.pid);
    for (const { name, dim } of opts.embeddings) {
      const bytes = readFileSync(join(root, 'embeddings', `${name}.npy`));
      const headerLen = bytes.readUInt16LE(8);
      expect(bytes.subarray(0, 8).equals(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]))).toBe(true);
      expect((10 + headerLen) % 64).toBe(0);
      expect(bytes.subarray(10, 10 + headerLen).toString('latin1')).toBe(`{'descr': '<f4', 'fortran_order': False, 'shape': (396, ${dim}), }`.padEnd(headerLen - 1) + '\n');
      const npy = readNpy(join(root, 'embeddings', `${name}.npy`));
      expect([npy.rows, npy.cols]).toEqual([396, dim]);
      expect(npy.data.every((x) => Number.isFinite(x))).toBe(true);
      const ids = readFileSync(join(root, 'embeddings', `${name}.ids.txt`), 'utf8').trim().split('\n');
      expect(ids).toHaveLength(396);
      expect(new Set(ids).size).toBe(396);
      expect(ids.every((id) => pids.has(id))).toBe(true);
      // train and test mixed, in no file's order
      expect(ids).not.toEqual(t.pid.filter((p) => ids.includes(p)));
      expect(ids).not.toEqual([...ids].sort());
      const split = ids.map((id) => t.pid.indexOf(id) < 300);
      expect(split.slice(0, 100).some((x) => x) && split.slice(0, 100).some((x) => !x)).toBe(true);
    }
    // each file leaves out its own posts
    const absent = (name: string): string[] => {
      const ids = new Set(readFileSync(join(root, 'embeddings', `${name}.ids.txt`), 'utf8').trim().split('\n'));
      return t.pid.filter((p) => !ids.has(p));
    };
    expect(absent('image')).toHaveLength(4);
    expect(absent('image')).not.toEqual(absent('text'));
  });

  it('same seed gives byte-identical files (streamed writers, chunked npy)', async () => {
    const b = tmp('noimg-b');
    await synthImage({ out: b, ...opts });
    expectSameFiles(root, b);
  });
});

describe('synthImage with a planted user drift', () => {
  it("adds d_u (age - 0.5) to each post's label, d_u per user, and nothing else", async () => {
    const opts = { train: 300, test: 100, seed: 23, images: false };
    const [plain, drifted] = [tmp('nodrift'), tmp('drift')];
    await synthImage({ out: plain, ...opts });
    await synthImage({ out: drifted, ...opts, userDrift: 3 });
    const labels = (root: string, t: Table) => [...t.label.subarray(0, t.nTrain), ...readFileSync(join(root, 'answers', 'test_label.txt'), 'utf8').trim().split('\n').map(Number)];
    const [a, b] = [await readDataset(plain), await readDataset(drifted)];
    expect(b.pid).toEqual(a.pid);
    const [ya, yb] = [labels(plain, a), labels(drifted, b)];
    const pd = a.columns.postdate;
    if (pd.type !== 'number') throw new Error('postdate');
    const [t0, t1] = [Math.min(...pd.values), Math.max(...pd.values)];
    // Per user: the label change is a line through the middle of the time span, slope d_u.
    const byUser = new Map<string, number[]>();
    a.uid.forEach((u, i) => {
      if (ya[i] > 0 && yb[i] > 0) byUser.set(u, [...(byUser.get(u) ?? []), i]); // not clipped at 0
    });
    const slopes: number[] = [];
    for (const rows of byUser.values()) {
      const x = rows.map((i) => (pd.values[i] - t0) / (t1 - t0) - 0.5);
      const dy = rows.map((i) => yb[i] - ya[i]);
      const slope = x.reduce((s, xi, k) => s + xi * dy[k], 0) / x.reduce((s, xi) => s + xi * xi, 0);
      rows.forEach((_, k) => expect(Math.abs(dy[k] - slope * x[k])).toBeLessThan(2e-4)); // labels are written to 4 decimals
      if (rows.length >= 3) slopes.push(slope);
    }
    const sd = Math.sqrt(slopes.reduce((s, v) => s + v * v, 0) / slopes.length);
    expect(slopes.length).toBeGreaterThan(10);
    expect(sd).toBeGreaterThan(1.5);
    expect(sd).toBeLessThan(4.5);
    expect(readFileSync(join(drifted, 'README.md'), 'utf8')).toContain('user drift: d_u ~ N(0, 3)');
    expect(readFileSync(join(plain, 'README.md'), 'utf8')).not.toContain('user drift');
  });
});

describe('synthVideo', () => {
  it('round trip: counts, ids, labels; duplicate users are merged; deterministic', async () => {
    const a = tmp('vid-a');
    const b = tmp('vid-b');
    expect(await synthVideo({ out: a, posts: 300, seed: 3 })).toEqual({ train: 200, test: 100 });
    await synthVideo({ out: b, posts: 300, seed: 3 });
    expectSameFiles(a, b);
    const warnings: string[] = [];
    const t = await readDataset(a, { onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
    expect(t.track).toBe('video');
    expect(t.nTrain).toBe(200);
    expect(t.nTest).toBe(100);
    const posts = readFileSync(join(a, 'train', 'SMP-Video_anonymized_posts_train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const pop = readFileSync(join(a, 'train', 'SMP-Video_anonymized_popularity_train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(t.pid.slice(0, 200)).toEqual(posts.map((p) => p.pid));
    const byPid = new Map(pop.map((p) => [p.pid, p.popularity]));
    for (let i = 0; i < 200; i++) expect(t.label[i]).toBe(byPid.get(t.pid[i]));
    expect(existsSync(join(a, 'test', 'SMP-Video_anonymized_popularity_test.jsonl'))).toBe(false);
    const f = t.columns.user_follower_count;
    expect(f.type === 'number' && f.values.every((x) => Number.isFinite(x))).toBe(true);
    expect(statSync(join(a, 'README.md')).size).toBeGreaterThan(100);
  });
});
