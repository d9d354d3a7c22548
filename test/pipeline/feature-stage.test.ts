import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { BlockCache } from '../../core/cache/block-cache.ts';
import type { Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { RunLog } from '../../core/report/run-log.ts';
import { computeFeatures } from '../../core/pipeline/feature-stage.ts';
import type { FeatureEntry } from '../../core/pipeline/schema.ts';
import { features } from '../../features/index.ts';
import { fakeTable } from '../features/fake-context.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** A block cache that remembers (weakly) every block it stored and every key it was asked for. */
class WatchedCache extends BlockCache {
  readonly stored = new Map<string, WeakRef<Float32Array>>();
  readonly asked: string[] = [];
  override put(key: string, m: Matrix, info: Record<string, unknown>): void {
    this.stored.set(String(info.id), new WeakRef(m.data));
    super.put(key, m, info);
  }
  override get(key: string): Matrix | null {
    this.asked.push(key);
    return super.get(key);
  }
}

function setup() {
  const n = 300;
  const rng = new Random(3);
  const postdate = Float64Array.from({ length: n }, () => rng.uniform(1.5e9, 1.53e9));
  const table = fakeTable({ n, columns: { postdate: { type: 'number', values: postdate } } });
  const entries: FeatureEntry[] = [
    { id: 'when', kind: 'time', inputs: [], params: features.get('time').params.parse({}) as Record<string, unknown> },
    { id: 'when_pca', kind: 'pca', inputs: ['when'], params: features.get('pca').params.parse({ components: 2 }) as Record<string, unknown> },
  ];
  return { table, entries };
}

describe('feature stage block lifetime', () => {
  it('drops a block after its last reader, and does not read it at all when its readers are cached', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smp-fs-'));
    const { table, entries } = setup();
    const run = async (cache: WatchedCache) => {
      const log = new RunLog({ quiet: true });
      const blocks = await computeFeatures({ entries, keep: new Set(['when_pca']), table, fingerprint: 'x', rng: new Random(1), log, cache, modelsDir: dir });
      return { blocks, log };
    };
    const first = new WatchedCache(dir);
    const { blocks } = await run(first);
    expect([...blocks.fixed.keys()]).toEqual(['when_pca']);
    expect(blocks.fixed.get('when_pca')!.cols).toBe(2);
    // Nothing holds the time block any more: the garbage collector can take it.
    await new Promise((r) => setTimeout(r, 0));
    gc();
    expect(first.stored.get('when')!.deref()).toBeUndefined();
    expect(first.stored.get('when_pca')!.deref()).toBeDefined();

    // Second run: the PCA block is cached, so its input is never read from the cache.
    const second = new WatchedCache(dir);
    const again = await run(second);
    expect(second.asked).toHaveLength(1);
    expect(Array.from(again.blocks.fixed.get('when_pca')!.data)).toEqual(Array.from(blocks.fixed.get('when_pca')!.data));

    // An unreadable cache entry of the reader: its input is computed again on the spot.
    const pcaKey = again.blocks.keys.when_pca;
    fs.writeFileSync(path.join(dir, 'blocks', pcaKey, 'block.npy'), 'garbage');
    const third = await run(new WatchedCache(dir));
    expect(Array.from(third.blocks.fixed.get('when_pca')!.data)).toEqual(Array.from(blocks.fixed.get('when_pca')!.data));
    expect([...third.blocks.fixed.keys()]).toEqual(['when_pca']);
  });
});

/** A block cache that records which blocks it had to store (computed, not read). */
class RecordingCache extends BlockCache {
  readonly computed: string[] = [];
  override put(key: string, m: Matrix, info: Record<string, unknown>): void {
    this.computed.push(String(info.id));
    super.put(key, m, info);
  }
}

// Cache keys hold only what a block depends on: the run's seed enters the key of a kind that
// declares `random` (pca: randomized SVD), not of a seed-free one (time, cross-modal).
describe('block cache keys and the seed', () => {
  const { table, entries } = setup();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smp-key-'));
  const run = async (seed: number, list = entries, keep = ['when', 'when_pca']) => {
    const cache = new RecordingCache(dir);
    const blocks = await computeFeatures({ entries: list, keep: new Set(keep), table, fingerprint: 'x', rng: new Random(seed), log: new RunLog({ quiet: true }), cache, modelsDir: dir });
    return { computed: cache.computed, keys: blocks.keys, blocks: blocks.fixed };
  };

  it('another seed reuses the seed-free blocks from the cache and recomputes the seeded ones', async () => {
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

  it('a seed-free block reading a seeded one gets a key per seed (the input key carries the seed)', async () => {
    const xm: FeatureEntry = { id: 'xm', kind: 'cross-modal', inputs: ['when_pca'], params: features.get('cross-modal').params.parse({ image: 'when_pca', category: null }) as Record<string, unknown> };
    expect(features.get('cross-modal').random).toBeFalsy();
    const [a, b] = [await run(3, [...entries, xm], ['xm']), await run(4, [...entries, xm], ['xm'])];
    expect(a.keys.when).toBe(b.keys.when);
    expect(a.keys.xm).not.toBe(b.keys.xm);
  });
});
