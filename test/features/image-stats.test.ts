import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../../core/random.ts';
import { RunLog } from '../../core/report/run-log.ts';
import { imageStats, pixelStats } from '../../features/image-stats.ts';
import { tmpDir } from '../helpers.ts';
import { at, fakeContext, fakeTable } from './fake-context.ts';

const W = 120;
const H = 80;

function solid(r: number, g: number, b: number, w = W, h = H): Buffer {
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) px.set([r, g, b], i * 3);
  return px;
}

/** Grey checkerboard of 4-pixel squares with a little seeded noise: lots of edges. */
function checker(rng: Random): Buffer {
  const px = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const v = ((x >> 2) + (y >> 2)) % 2 ? 200 : 50;
      const n = Math.max(0, Math.min(255, v + Math.round(rng.normal() * 5)));
      px.set([n, n, n], (y * W + x) * 3);
    }
  return px;
}

const raw = (px: Buffer, w = W, h = H) => sharp(px, { raw: { width: w, height: h, channels: 3 } });

let dir: string;
const files: Record<string, string> = {};

beforeAll(async () => {
  dir = tmpDir('image-stats');
  const rng = new Random(1);
  const write = async (name: string, img: sharp.Sharp) => {
    files[name] = path.join(dir, name);
    await img.toFile(files[name]);
  };
  await write('bright.png', raw(solid(220, 215, 210)));
  await write('dark.png', raw(solid(30, 35, 40)));
  await write('red.png', raw(solid(230, 20, 20)));
  await write('grey.png', raw(solid(128, 128, 128)));
  await write('sharp.png', raw(checker(rng)));
  await write('blurred.png', raw(checker(new Random(1))).blur(3));
  await write('wide.jpg', raw(solid(90, 140, 200, 300, 100), 300, 100).jpeg({ quality: 80 }));
  files['corrupt.jpg'] = path.join(dir, 'corrupt.jpg');
  const junk = Buffer.alloc(2000);
  for (let i = 0; i < junk.length; i++) junk[i] = rng.int(256);
  junk.set([0xff, 0xd8, 0xff, 0xe0], 0); // a JPEG signature, then garbage
  fs.writeFileSync(files['corrupt.jpg'], junk);
  files['absent.jpg'] = path.join(dir, 'absent.jpg');
});

describe('image-stats', () => {
  it('orders brightness, saturation, colourfulness and sharpness; reads sizes; flags bad images without failing', async () => {
    const order = ['bright.png', 'dark.png', 'red.png', 'grey.png', 'sharp.png', 'blurred.png', 'wide.jpg', 'corrupt.jpg', 'absent.jpg'];
    const media = [...order.map((f) => files[f]), null];
    const table = fakeTable({ n: media.length, media });
    const ctx = { ...fakeContext(table), cacheDir: path.join(dir, 'cache') };
    const params = imageStats.params.parse({ log_sizes: false, hue_bins: 6 });
    const m = await imageStats.compute(ctx, params);
    const row = (f: string) => order.indexOf(f);
    const v = (f: string, col: string) => at(m, row(f), col);

    expect(m.rows).toBe(media.length);
    expect(v('bright.png', 'brightness')).toBeGreaterThan(0.8);
    expect(v('dark.png', 'brightness')).toBeLessThan(0.2);
    expect(v('red.png', 'saturation')).toBeGreaterThan(0.85);
    expect(v('grey.png', 'saturation')).toBe(0);
    expect(v('red.png', 'colourfulness')).toBeGreaterThan(50);
    expect(v('grey.png', 'colourfulness')).toBeCloseTo(0, 6);
    expect(v('red.png', 'hue0')).toBeCloseTo(1, 6); // every pixel red: first hue sector
    expect(v('grey.png', 'hue0')).toBe(0);
    expect(v('sharp.png', 'sharpness')).toBeGreaterThan(10 * v('blurred.png', 'sharpness'));
    expect(v('sharp.png', 'contrast')).toBeGreaterThan(v('grey.png', 'contrast'));
    expect(v('sharp.png', 'entropy')).toBeGreaterThan(v('grey.png', 'entropy'));
    expect(v('grey.png', 'entropy')).toBe(0);
    expect(v('wide.jpg', 'width')).toBe(300);
    expect(v('wide.jpg', 'height')).toBe(100);
    expect(v('wide.jpg', 'aspect')).toBeCloseTo(3, 6);
    expect(v('wide.jpg', 'file_bytes')).toBe(fs.statSync(files['wide.jpg']).size);
    for (const f of order.slice(0, 7)) expect(v(f, 'missing')).toBe(0);

    // corrupt, absent and path-less rows: NaN features, missing flag, counted
    for (const r of [row('corrupt.jpg'), row('absent.jpg'), media.length - 1]) {
      expect(at(m, r, 'missing')).toBe(1);
      expect(at(m, r, 'brightness')).toBeNaN();
      expect(at(m, r, 'width')).toBeNaN();
    }
    expect(ctx.log.counters.images_corrupt).toBe(3);

    // rows are cached per row: a rerun decodes nothing and gives the same bytes
    const again = { ...ctx, log: new RunLog({ quiet: true }) };
    const m2 = await imageStats.compute(again, params);
    expect(again.log.counters['image-stats.computed']).toBe(0);
    expect(again.log.counters['image-stats.cached']).toBe(media.length);
    expect(again.log.counters.images_corrupt).toBe(3);
    expect(Buffer.from(m2.data.buffer).equals(Buffer.from(m.data.buffer))).toBe(true);
  });

  it('log1p sizes by default and the hue histogram width follows hue_bins', async () => {
    const table = fakeTable({ n: 1, media: [files['wide.jpg']] });
    const m = await imageStats.compute({ ...fakeContext(table), cacheDir: path.join(dir, 'cache') }, imageStats.params.parse({ hue_bins: 12 }));
    expect(at(m, 0, 'log1p_width')).toBeCloseTo(Math.log1p(300), 5);
    expect(m.names.filter((n) => n.startsWith('hue'))).toHaveLength(12);
  });

  it('pixelStats on a raw buffer: Hasler-Suesstrunk colourfulness of a two-colour image', () => {
    // half pure red, half pure green: rg = +255 / -255, yb = 127.5 / 127.5
    const px = new Uint8Array(4 * 3);
    px.set([255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255, 0]);
    const s = pixelStats(px, 4, 1, 3, 3);
    expect(s[3]).toBeCloseTo(255 + 0.3 * 127.5, 6); // sd_rg = 255, sd_yb = 0, mean_rg = 0, mean_yb = 127.5
  });
});
