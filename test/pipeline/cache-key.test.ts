/**
 * @file Block cache keys hold only what a block depends on: the run's seed enters the key of a
 * kind that declares `random` (pca: randomized SVD) and not of a seed-free one (time), so
 * another --seed reads the seed-free blocks from the cache and recomputes the seeded ones.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlockCache } from '../../core/cache/block-cache.ts';
import type { Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { RunLog } from '../../core/report/run-log.ts';
import { computeFeatures } from '../../core/pipeline/feature-stage.ts';
import type { FeatureEntry } from '../../core/pipeline/schema.ts';
import { features } from '../../features/index.ts';
import { fakeTable } from '../features/fake-context.ts';

/** A block cache that records which blocks it had to store (computed, not read). */
class RecordingCache extends BlockCache {
  readonly computed: string[] = [];
  override put(key: string, m: Matrix, info: Record<string, unknown>): void {
    this.computed.push(String(info.id));
    super.put(key, m, info);
  }
}

describe('block cache keys and the seed', () => {
  const n = 200;
  const rng = new Random(5);
  const postdate = Float64Array.from({ length: n }, () => rng.uniform(1.5e9, 1.53e9));
  const table = fakeTable({ n, columns: { postdate: { type: 'number', values: postdate } } });
  const entries: FeatureEntry[] = [
    { id: 'when', kind: 'time', inputs: [], params: features.get('time').params.parse({}) as Record<string, unknown> },
    { id: 'when_pca', kind: 'pca', inputs: ['when'], params: features.get('pca').params.parse({ components: 2 }) as Record<string, unknown> },
  ];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smp-key-'));
  const run = async (seed: number) => {
    const cache = new RecordingCache(dir);
    const blocks = await computeFeatures({ entries, keep: new Set(['when', 'when_pca']), table, fingerprint: 'x', rng: new Random(seed), log: new RunLog({ quiet: true }), cache, modelsDir: dir });
    return { computed: cache.computed, keys: blocks.keys, blocks: blocks.fixed };
  };

  it('reuses seed-free blocks under another seed and recomputes the seeded ones', async () => {
    expect(features.get('time').random).toBeFalsy();
    expect(features.get('pca').random).toBe(true);
    const first = await run(1);
    expect(first.computed).toEqual(['when', 'when_pca']);

    const other = await run(2);
    expect(other.keys.when).toBe(first.keys.when);
    expect(other.keys.when_pca).not.toBe(first.keys.when_pca);
    expect(other.computed).toEqual(['when_pca']);
    expect(Array.from(other.blocks.get('when')!.data)).toEqual(Array.from(first.blocks.get('when')!.data));

    // The first seed again: everything from the cache, the same values.
    const again = await run(1);
    expect(again.computed).toEqual([]);
    expect(Array.from(again.blocks.get('when_pca')!.data)).toEqual(Array.from(first.blocks.get('when_pca')!.data));
  });

  it('gives a seed-free block reading a seeded one a key per seed (the input key carries the seed)', async () => {
    const chained: FeatureEntry[] = [
      ...entries,
      { id: 'xm', kind: 'cross-modal', inputs: ['when_pca'], params: features.get('cross-modal').params.parse({ image: 'when_pca', category: null }) as Record<string, unknown> },
    ];
    const keysOf = async (seed: number) => (await computeFeatures({ entries: chained, keep: new Set(['xm']), table, fingerprint: 'x', rng: new Random(seed), log: new RunLog({ quiet: true }), cache: new BlockCache(dir), modelsDir: dir })).keys;
    const [a, b] = [await keysOf(3), await keysOf(4)];
    expect(features.get('cross-modal').random).toBeFalsy();
    expect(a.when).toBe(b.when);
    expect(a.xm).not.toBe(b.xm);
  });
});
