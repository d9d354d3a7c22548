/**
 * Sharded extraction: two `smp run --shard` processes (0/2 given on the command line, 1/2 read
 * from a Slurm array's environment) fill one cache folder at the same time with the per-row work
 * of a clip-image pipeline on the fixture model (and image-stats); the plain run afterwards
 * computes no embedding row and gives the bytes of an unsharded run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthImage } from '../../core/data/synth-image.ts';
import { runPipeline } from '../../core/pipeline/run.ts';
import { parseShard, shardRows } from '../../core/pipeline/shard.ts';
import { buildTinyModels, TINY_CLIP_ID } from '../fixtures/tiny-models.ts';
import { REPO, tmpDir, writeFile } from '../helpers.ts';

let dir: string;
let file: string;

beforeAll(async () => {
  dir = tmpDir('shard');
  const modelsDir = path.join(dir, 'models');
  buildTinyModels(modelsDir);
  await synthImage({ out: path.join(dir, 'data'), posts: 160, seed: 4 });
  file = writeFile(
    path.join(dir, 'sharded.yaml'),
    `name: sharded
track: image
seed: 5
data: { root: data }
models_dir: ${JSON.stringify(modelsDir)}
validation: { scheme: kfold, folds: 3 }
features:
  - { id: meta, kind: metadata }
  - { id: clip, kind: clip-image, params: { model: ${TINY_CLIP_ID}, workers: 1, batch_size: 8, shard_rows: 16 } }
  - { id: img, kind: image-stats, params: { size: 32 } }
models:
  - { id: ridge, kind: ridge, params: { alpha: 3 } }
submission:
  external_data: { used: "false", details: "none" }
`,
  );
}, 60_000);

function smp(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [path.join(REPO, 'bin', 'smp.js'), ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((ok) => child.on('exit', (code) => ok({ code, out, err })));
}

describe('smp run --shard', () => {
  it('two concurrent shard runs, then a plain run: no embedding row computed, bytes of an unsharded run', async () => {
    const cache = path.join(dir, 'shared-cache');
    const [a, b] = await Promise.all([
      smp(['run', file, '--quiet', '--shard', '0/2', '--cache', cache]),
      smp(['run', file, '--quiet', '--shard', 'auto', '--cache', cache], { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' }),
    ]);
    expect(a.code, a.err).toBe(0);
    expect(b.code, b.err).toBe(0);
    const sa = JSON.parse(a.out.trim().split('\n').pop()!) as { shard: string; rows: number[]; blocks: { id: string; status: string; computed: number }[] };
    const sb = JSON.parse(b.out.trim().split('\n').pop()!) as typeof sa;
    expect([sa.shard, sb.shard]).toEqual(['0/2', '1/2']);
    expect([sa.rows, sb.rows]).toEqual([[0, 80], [80, 160]]);
    for (const s of [sa, sb]) {
      expect(s.blocks.map((x) => [x.id, x.status])).toEqual([['meta', 'not per-row'], ['clip', 'computed'], ['img', 'computed']]);
      expect(s.blocks[1].computed).toBe(80);
    }
    expect(a.err).toMatch(/run without --shard/);
    // no run folder, no block entry: only per-row shard files
    expect(fs.existsSync(path.join(dir, 'runs'))).toBe(false);
    expect(fs.existsSync(path.join(cache, 'blocks'))).toBe(false);

    const plain = await runPipeline(file, { workDir: path.join(dir, 'plain'), cacheDir: cache, quiet: true, timestamp: 't' });
    const counters = (JSON.parse(fs.readFileSync(path.join(plain.runDir, 'run.json'), 'utf8')) as { counters: Record<string, number> }).counters;
    expect(counters['clip-image.computed']).toBe(0);
    expect(counters['clip-image.cached']).toBe(160);
    expect(counters['image-stats.computed']).toBe(0);
    expect(counters['image-stats.cached']).toBe(160);

    const whole = await runPipeline(file, { workDir: path.join(dir, 'whole'), quiet: true, timestamp: 't' });
    expect(fs.readFileSync(plain.zipPath).equals(fs.readFileSync(whole.zipPath))).toBe(true);
    for (const f of ['final.oof.csv', 'final.test.csv', 'ridge.oof.csv'])
      expect(fs.readFileSync(path.join(plain.runDir, f), 'utf8'), f).toBe(fs.readFileSync(path.join(whole.runDir, f), 'utf8'));
    // the blocks themselves are byte-identical
    const blocks = (d: string) => fs.readdirSync(path.join(d, 'blocks')).sort();
    const cacheWhole = path.join(dir, 'whole', '.cache');
    expect(blocks(cache)).toEqual(blocks(cacheWhole));
    for (const k of blocks(cache)) expect(fs.readFileSync(path.join(cache, 'blocks', k, 'block.npy')).equals(fs.readFileSync(path.join(cacheWhole, 'blocks', k, 'block.npy'))), k).toBe(true);
  }, 240_000);

  it('reads the shard from --shard, a Slurm array or a Kubernetes Indexed Job; bad values are clear errors', () => {
    expect(parseShard('3/4', {})).toEqual({ index: 3, count: 4 });
    expect(parseShard('auto', { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '8' })).toEqual({ index: 4, count: 8 });
    expect(parseShard('auto/6', { JOB_COMPLETION_INDEX: '2' })).toEqual({ index: 2, count: 6 });
    expect(() => parseShard('4/4', {})).toThrow(/index 4 is not below the count 4/);
    expect(() => parseShard('auto', { JOB_COMPLETION_INDEX: '2' })).toThrow(/pass --shard auto\/N/);
    expect(() => parseShard('auto', {})).toThrow(/neither SLURM_ARRAY_TASK_ID .* nor JOB_COMPLETION_INDEX/);
    expect(() => parseShard('half', {})).toThrow(/expected i\/N/);
    // shards cover every row once
    const covered = [0, 1, 2].flatMap((i) => {
      const [lo, hi] = shardRows(10, { index: i, count: 3 });
      return Array.from({ length: hi - lo }, (_, k) => lo + k);
    });
    expect(covered).toEqual(Array.from({ length: 10 }, (_, k) => k));
  });
});
