/**
 * An interrupted extraction resumes: a child process runs clip-image on 300 synthetic images
 * and is killed (SIGKILL) part-way, after some shards are on disk; the rerun computes only the
 * rows that are in no complete shard and yields the same matrix as an uninterrupted run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunLog } from '../../core/report/run-log.ts';
import { clipImage } from '../../features/clip-image.ts';
import type { Table } from '../../core/data/table.ts';
import { buildTinyModels, TINY_CLIP_ID } from '../fixtures/tiny-models.ts';
import { featureContext, imagePosts } from '../fixtures/embed-data.ts';

const REPO = path.resolve(new URL('../..', import.meta.url).pathname);
const root = path.join(REPO, 'test', '.tmp', `embed-resume-${process.pid}`);
const modelsDir = path.join(root, 'models');
const N = 300;
const params = { model: TINY_CLIP_ID, workers: 2, batch_size: 8, shard_rows: 32 };
let table: Table;

beforeAll(async () => {
  fs.rmSync(root, { recursive: true, force: true });
  buildTinyModels(modelsDir);
  table = await imagePosts(path.join(root, 'data'), N, { seed: 11, corrupt: [17], absent: [250], minSide: 24, maxSide: 96 });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Rows stored in complete shards (those whose .json exists) under a cache folder. */
function cachedRows(cacheDir: string): number {
  const base = path.join(cacheDir, 'embed');
  if (!fs.existsSync(base)) return 0;
  let rows = 0;
  for (const d of fs.readdirSync(base))
    for (const f of fs.readdirSync(path.join(base, d)))
      if (f.startsWith('shard-') && f.endsWith('.json')) rows += (JSON.parse(fs.readFileSync(path.join(base, d, f), 'utf8')) as { rows: number }).rows;
  return rows;
}

/** Runs the child until it has written at least `minShards` shards (or stalls), then kills it. */
async function runAndKill(cacheDir: string, minShards: number): Promise<{ signal: string | null; out: string }> {
  const jobFile = path.join(root, 'job.json');
  fs.writeFileSync(jobFile, JSON.stringify({ pid: table.pid, media: table.media, cacheDir, modelsDir, params, stallAfter: 160 }));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'test', 'fixtures', 'embed-resume-child.ts'), jobFile], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((ok) => child.on('exit', (code, signal) => ok({ code, signal })));
  const shardDir = () => {
    const base = path.join(cacheDir, 'embed');
    return fs.existsSync(base) ? fs.readdirSync(base).flatMap((d) => fs.readdirSync(path.join(base, d)).filter((f) => f.endsWith('.json') && f.startsWith('shard-'))) : [];
  };
  const deadline = Date.now() + 90_000;
  let killed = false;
  while (Date.now() < deadline && child.exitCode === null) {
    if (shardDir().length >= minShards || out.includes('STALLED')) {
      child.kill('SIGKILL');
      killed = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 15));
  }
  const { signal } = await exited;
  if (!killed) throw new Error(`child ended before it was killed\nstdout: ${out}\nstderr: ${err}`);
  return { signal, out };
}

describe('embedding extraction resume', () => {
  it('a killed extraction resumes from its complete shards and gives the uninterrupted result', async () => {
    const cacheDir = path.join(root, 'cache-killed');
    const { signal, out } = await runAndKill(cacheDir, 2);
    expect(signal).toBe('SIGKILL');
    expect(out).not.toContain('FINISHED');
    const done = cachedRows(cacheDir);
    expect(done).toBeGreaterThanOrEqual(64); // at least two shards of >= 32 rows survived
    expect(done).toBeLessThan(N);

    const log = new RunLog({ quiet: true });
    const resumed = await clipImage.compute(featureContext(table, { cacheDir, modelsDir, log }), clipImage.params.parse(params));
    expect(log.counters['clip-image.cached']).toBe(done);
    expect(log.counters['clip-image.computed']).toBe(N - done);
    expect(log.counters['clip-image.missing']).toBe(2);
    expect(cachedRows(cacheDir)).toBe(N);
    // nothing half-written is left behind (temp files of the killed writer are swept)
    const base = path.join(cacheDir, 'embed');
    const files = fs.readdirSync(base).flatMap((d) => fs.readdirSync(path.join(base, d)));
    expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);
    for (const f of files.filter((f) => f.startsWith('shard-') && f.endsWith('.json'))) expect(files).toContain(f.replace(/\.json$/, '.npy'));

    const whole = await clipImage.compute(featureContext(table, { cacheDir: path.join(root, 'cache-whole'), modelsDir }), clipImage.params.parse(params));
    expect([resumed.rows, resumed.cols]).toEqual([whole.rows, whole.cols]);
    expect(resumed.names).toEqual(whole.names);
    expect(Buffer.from(resumed.data.buffer).equals(Buffer.from(whole.data.buffer))).toBe(true); // same bytes
  });
});
