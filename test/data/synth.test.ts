import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    const ud = t.columns.user_description;
    const ld = t.columns.location_description;
    expect(ud.type === 'vector' && ud.dim).toBe(399);
    expect(ld.type === 'vector' && ld.dim).toBe(400);
    // user data is columnar pandas JSON
    const user = JSON.parse(readFileSync(join(root, 'test', 'test_user_data.json'), 'utf8'));
    expect(Object.keys(user.Pid)).toHaveLength(20);
    expect(user.user_description['0'].split(',')).toHaveLength(399);
    expect(existsSync(join(root, 'test', 'test_label.txt'))).toBe(false);
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
