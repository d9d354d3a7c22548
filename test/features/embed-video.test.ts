/**
 * video-frames on tiny mp4 files the test makes with ffmpeg: N frames sampled uniformly, CLIP
 * embeddings pooled (mean, max), unreadable, absent or missing videos flagged with a zero row
 * and counted, never fatal; a one-colour video pools to its frame's embedding, which equals
 * clip-image's embedding of that frame saved as PNG.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Table } from '../../core/data/table.ts';
import { RunLog } from '../../core/report/run-log.ts';
import { videoFrames } from '../../features/video-frames.ts';
import { clipImage } from '../../features/clip-image.ts';
import { checkFfmpeg, ffmpegPath, parsePpmStream, sampleFrames, videoDuration } from '../../features/embed/video.ts';
import { buildTinyModels, TINY_CLIP_DIM, TINY_CLIP_ID } from '../fixtures/tiny-models.ts';
import { featureContext } from '../fixtures/embed-data.ts';

const root = path.resolve('test/.tmp', `embed-video-${process.pid}`);
const modelsDir = path.join(root, 'models');
const D = TINY_CLIP_DIM;
let table: Table;

function makeVideo(file: string, source: string): string {
  execFileSync(ffmpegPath(), ['-v', 'error', '-y', '-f', 'lavfi', '-i', source, '-pix_fmt', 'yuv420p', '-c:v', 'libx264', file]);
  return file;
}

beforeAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(path.join(root, 'v'), { recursive: true });
  buildTinyModels(modelsDir);
  const v = (name: string) => path.join(root, 'v', name);
  const media = [
    makeVideo(v('test.mp4'), 'testsrc=size=96x64:rate=10:duration=2'),
    makeVideo(v('red.mp4'), 'color=c=0xC83232:size=80x60:rate=10:duration=1'),
    makeVideo(v('bars.mp4'), 'smptebars=size=64x64:rate=10:duration=3'),
    makeVideo(v('short.mp4'), 'testsrc=size=64x48:rate=10:duration=0.2'), // 2 frames only
    v('broken.mp4'),
    v('absent.mp4'),
    null,
  ];
  fs.writeFileSync(v('broken.mp4'), 'not a video at all');
  const n = media.length;
  table = {
    track: 'video',
    root,
    n,
    nTrain: n - 2,
    nTest: 2,
    pid: media.map((_, i) => `v${i}`),
    uid: media.map(() => 'u'),
    label: new Float64Array(n),
    columns: {},
    media,
    sources: [],
  };
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('frame sampling', () => {
  it('reads the duration and samples N frames spread over the video', async () => {
    expect(await videoDuration(table.media[0]!)).toBeCloseTo(2, 1);
    expect(await videoDuration(table.media[4]!)).toBeNull();
    const frames = await sampleFrames(table.media[0], 4);
    expect(frames.length).toBe(4);
    expect(frames.map((f) => [f.width, f.height])).toEqual(Array(4).fill([96, 64]));
    // testsrc changes every frame: the samples differ
    expect(Buffer.from(frames[0].rgb).equals(Buffer.from(frames[3].rgb))).toBe(false);
    expect((await sampleFrames(table.media[3], 4)).length).toBeGreaterThanOrEqual(1);
    expect(await sampleFrames(table.media[4], 4)).toEqual([]);
    expect(await sampleFrames(table.media[5], 4)).toEqual([]);
    expect(checkFfmpeg()).toMatch(/^ffmpeg version/);
    expect(parsePpmStream(Buffer.from('P6\n2 1\n255\nabcdef'))).toEqual([{ width: 2, height: 1, rgb: new Uint8Array(Buffer.from('abcdef')) }]);
  });
});

describe('video-frames', () => {
  it('pools frame embeddings, flags unreadable videos, and reuses the row cache', async () => {
    const log = new RunLog({ quiet: true });
    const cacheDir = path.join(root, 'cache');
    const params = videoFrames.params.parse({ model: TINY_CLIP_ID, frames: 4, batch_size: 3 });
    const m = await videoFrames.compute(featureContext(table, { cacheDir, modelsDir, log }), params);
    expect([m.rows, m.cols]).toEqual([7, 2 * D + 1]);
    expect(m.names.slice(0, 2)).toEqual(['mean_0', 'mean_1']);
    expect(m.names.slice(D, D + 1)).toEqual(['max_0']);
    const missing = Array.from({ length: 7 }, (_, r) => m.data[r * m.cols + 2 * D]);
    expect(missing).toEqual([0, 0, 0, 0, 1, 1, 1]);
    expect(log.counters['video-frames.missing']).toBe(3);
    for (let r = 0; r < 7; r++) {
      const mean = m.data.subarray(r * m.cols, r * m.cols + D);
      const max = m.data.subarray(r * m.cols + D, r * m.cols + 2 * D);
      expect(Math.hypot(...mean)).toBeCloseTo(missing[r] ? 0 : 1, 5);
      if (missing[r]) expect(max.every((x) => x === 0)).toBe(true);
      else for (const x of max) expect(Math.abs(x)).toBeLessThanOrEqual(1 + 1e-6); // element-wise max of unit vectors
    }
    // one colour: every frame is the same, so mean == max == the frame's embedding
    for (let j = 0; j < D; j++) expect(m.data[1 * m.cols + j]).toBeCloseTo(m.data[1 * m.cols + D + j], 5);

    const log2 = new RunLog({ quiet: true });
    const again = await videoFrames.compute(featureContext(table, { cacheDir, modelsDir, log: log2 }), params);
    expect(log2.counters['video-frames.computed']).toBe(0);
    expect(Buffer.from(again.data.buffer).equals(Buffer.from(m.data.buffer))).toBe(true);

    // the frame of the one-colour video, embedded by clip-image from a lossless PNG: the same vector
    const [frame] = await sampleFrames(table.media[1], 1);
    const png = path.join(root, 'red-frame.png');
    await sharp(Buffer.from(frame.rgb), { raw: { width: frame.width, height: frame.height, channels: 3 } }).png().toFile(png);
    const still: Table = { ...table, n: 1, nTrain: 1, nTest: 0, pid: ['still'], uid: ['u'], label: new Float64Array(1), media: [png] };
    const img = await clipImage.compute(featureContext(still, { cacheDir: path.join(root, 'cache-img'), modelsDir }), clipImage.params.parse({ model: TINY_CLIP_ID, workers: 0 }));
    for (let j = 0; j < D; j++) expect(img.data[j]).toBeCloseTo(m.data[1 * m.cols + j], 5);
  });
});
