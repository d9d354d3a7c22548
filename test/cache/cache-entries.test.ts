/**
 * `smp cache ls | prune`: a run's blocks and per-row cache are listed with kind, id, size and
 * last use; prune removes what is older than an age and/or what no given pipeline uses, and
 * --dry-run removes nothing.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthImage } from '../../core/data/synth-image.ts';
import { pipelineCacheUse, runPipeline } from '../../core/pipeline/run.ts';
import { BlockCache } from '../../core/cache/block-cache.ts';
import { DAY_MS, formatEntries, isPrunable, listCacheEntries, parseAge } from '../../core/cache/cache-entries.ts';
import { REPO, tmpDir, writeFile } from '../helpers.ts';

let dir: string;
let cache: string;
const pipeline = (name: string, features: string) => `name: ${name}
track: image
data: { root: data }
validation: { scheme: kfold, folds: 2 }
features:
${features}
models:
  - { id: ridge, kind: ridge }
submission:
  external_data: { used: "false", details: "none" }
`;

beforeAll(async () => {
  dir = tmpDir('cache-entries');
  cache = path.join(dir, 'cache');
  await synthImage({ out: path.join(dir, 'data'), posts: 80, seed: 6 });
  writeFile(path.join(dir, 'a.yaml'), pipeline('a', '  - { id: meta, kind: metadata }\n  - { id: img, kind: image-stats, params: { size: 32 } }'));
  writeFile(path.join(dir, 'b.yaml'), pipeline('b', '  - { id: meta, kind: metadata }'));
  await runPipeline(path.join(dir, 'a.yaml'), { workDir: dir, cacheDir: cache, quiet: true, timestamp: 't' });
}, 120_000);

const smp = (...args: string[]) => spawnSync(process.execPath, [path.join(REPO, 'bin', 'smp.js'), ...args], { cwd: dir, encoding: 'utf8' });

describe('smp cache', () => {
  it('lists blocks and row caches with kind, id, size and last use; a read marks a block used', () => {
    const entries = listCacheEntries(cache);
    expect(entries.map((e) => [e.type, e.kind, e.id])).toEqual(
      expect.arrayContaining([
        ['block', 'metadata', 'meta'],
        ['block', 'image-stats', 'img'],
        ['rows', 'image-stats', 'size=32 hue_bins=8 log_sizes=true'],
      ]),
    );
    expect(entries).toHaveLength(3);
    for (const e of entries) {
      expect(e.bytes).toBeGreaterThan(0);
      expect(Date.now() - e.lastUsed.getTime()).toBeLessThan(DAY_MS);
    }
    const text = formatEntries(entries);
    expect(text).toMatch(/^type\s+kind\s+id\s+size\s+last use \(UTC\)\s+entry/);
    expect(text).toMatch(/3 entries, [\d.]+ kB$/);

    // 40 days unused: old enough for --older-than 30d; reading it through the cache makes it recent again
    const meta = entries.find((e) => e.id === 'meta')!;
    const old = new Date(Date.now() - 40 * DAY_MS);
    fs.utimesSync(path.join(cache, meta.path, 'meta.json'), old, old);
    const aged = listCacheEntries(cache);
    expect(aged.filter((e) => isPrunable(e, { olderThanMs: parseAge('30d') })).map((e) => e.id)).toEqual(['meta']);
    expect(new BlockCache(cache).get(meta.key!)).not.toBeNull();
    expect(listCacheEntries(cache).filter((e) => isPrunable(e, { olderThanMs: parseAge('30d') }))).toEqual([]);
  });

  it('prune --unreferenced keeps what a pipeline uses; --dry-run removes nothing; bad input is a clear error', async () => {
    const useA = await pipelineCacheUse(path.join(dir, 'a.yaml'));
    const a = { keys: new Set(useA.keys), features: useA.features };
    expect(listCacheEntries(cache).filter((e) => isPrunable(e, { use: a }))).toEqual([]);

    const dry = smp('cache', 'prune', '--cache', cache, '--unreferenced', 'b.yaml', '--dry-run');
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/block\s+image-stats\s+img/);
    expect(dry.stdout).toMatch(/rows\s+image-stats\s+size=32/);
    expect(dry.stdout).not.toMatch(/metadata/);
    expect(dry.stdout).toMatch(/dry run: would remove 2 entries/);
    expect(listCacheEntries(cache)).toHaveLength(3);

    const real = smp('cache', 'prune', '--cache', cache, '--unreferenced', 'b.yaml');
    expect(real.stdout).toMatch(/removed 2 entries/);
    expect(listCacheEntries(cache).map((e) => e.id)).toEqual(['meta']);

    expect(smp('cache', 'prune', '--cache', cache).stderr).toMatch(/say what to remove: --older-than AGE/);
    expect(() => parseAge('30 days')).toThrow(/expected a number and a unit/);
  }, 60_000);
});
