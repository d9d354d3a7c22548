/**
 * @file Computes the label-free feature blocks of a pipeline in order, through the block
 * cache, and collects the label-aware ones for the training stage to fit inside each fold.
 *
 * Only blocks someone needs are held: a block that only feeds other blocks is dropped from
 * memory after its last consumer, and is not even read from the cache when every block it
 * feeds is cached (at SMPD size the user vectors alone are 1.5 GB).
 */
import path from 'node:path';
import { withColumns, type Table } from '../data/table.ts';
import type { Matrix } from '../matrix.ts';
import type { Random } from '../random.ts';
import type { RunLog } from '../report/run-log.ts';
import { BlockCache, fingerprintFiles, hashOf } from '../cache/block-cache.ts';
import { KIT_VERSION } from '../version.ts';
import { UserError } from '../errors.ts';
import { features } from '../../features/index.ts';
import type { FeatureContext, LabelAwareFeature, LabelFreeFeature } from '../../features/feature.ts';
import type { FeatureEntry, ModelEntry } from './schema.ts';
import { shardLabel, shardRows, type Shard } from './shard.ts';

export interface LabelAwareBlock {
  id: string;
  def: LabelAwareFeature;
  params: Record<string, unknown>;
  ctx: FeatureContext;
}

export interface FeatureBlocks {
  /** Label-free blocks by id, all rows (train then test). */
  fixed: Map<string, Matrix>;
  labelAware: LabelAwareBlock[];
  /** Block id -> cache key, recorded in run.json. */
  keys: Record<string, string>;
}

/** The feature block ids a learner sees: its `features` list, else every block of the pipeline. */
export function modelFeatureIds(entry: ModelEntry, features: readonly FeatureEntry[]): string[] {
  return entry.features ?? features.map((f) => f.id);
}

/** What the feature stage will do with each block, known before it starts (preflight, --dry-run). */
export interface FeaturePlan {
  /** Block id -> cache key. */
  keys: Record<string, string>;
  /** Blocks read or computed (the others only feed cached blocks). */
  needed: Set<string>;
  /** cached: read from .cache; compute: computed now; label-aware: fitted in each fold; unused: not read. */
  status: Record<string, 'cached' | 'compute' | 'label-aware' | 'unused'>;
}

export interface PlanOptions {
  entries: readonly FeatureEntry[];
  /** Label-free block ids the later stages read (learners, stacker raw features): kept in memory. */
  keep: ReadonlySet<string>;
  table: Table;
  fingerprint: string;
  seed: number;
  cache: BlockCache;
}

/** Layout of the block cache key; bump when its parts change. */
const KEY_FORMAT = 'block-key/2';

export function planFeatures(opts: PlanOptions): FeaturePlan {
  const { table, cache } = opts;
  const keys: Record<string, string> = {};
  for (const entry of opts.entries) {
    const def = features.get(entry.kind);
    try {
      def.check?.(table, entry.params);
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`features: ${entry.id}: ${e.message}`);
      throw e;
    }
    // Only what the block depends on: the seed only for kinds that draw from it (an input's key
    // carries its own seed, if any). KEY_FORMAT: keys of older layouts (every one held the seed) just miss.
    keys[entry.id] = hashOf(KEY_FORMAT, KIT_VERSION, `${def.kind}@${def.version}`, entry.params, entry.inputs.map((i) => keys[i]), opts.fingerprint, def.random ? opts.seed : 'seed-free', ...(def.inputFiles ? [fingerprintFiles(def.inputFiles(table, entry.params))] : []));
  }
  // Walking backwards: a block is needed when a later stage keeps it, when it is label-aware,
  // or when it feeds a needed block that must be computed (not cached).
  const needed = new Set<string>();
  const status: FeaturePlan['status'] = {};
  for (let e = opts.entries.length - 1; e >= 0; e--) {
    const entry = opts.entries[e];
    const def = features.get(entry.kind);
    if (opts.keep.has(entry.id) || def.labelAware) needed.add(entry.id);
    const cached = !def.labelAware && cache.has(keys[entry.id]);
    status[entry.id] = !needed.has(entry.id) ? 'unused' : def.labelAware ? 'label-aware' : cached ? 'cached' : 'compute';
    if (needed.has(entry.id) && !cached) for (const i of entry.inputs) needed.add(i);
  }
  return { keys, needed, status };
}

type StageOptions = Omit<PlanOptions, 'seed'> & {
  rng: Random;
  log: RunLog;
  modelsDir: string;
};

function featureContext(opts: StageOptions, entry: FeatureEntry, key: string, inputs: Record<string, Matrix>, shard?: Shard): FeatureContext {
  const def = features.get(entry.kind);
  return {
    table: opts.table,
    inputs,
    rng: def.random ? opts.rng.fork(`feature:${def.kind}:${key}`) : seedFree(def.kind),
    log: opts.log,
    cacheDir: path.join(opts.cache.dir, 'rows'),
    modelsDir: opts.modelsDir,
    shard,
  };
}

/** What `smp run --shard i/N` did for one block. */
export interface ShardBlock {
  id: string;
  kind: string;
  /** computed: its shard rows were looked up and the rest computed into the row cache. */
  status: 'computed' | 'block cached' | 'not per-row' | 'unused';
  rows: number;
  computed: number;
  cached: number;
}

/**
 * `smp run --shard i/N`: for every per-row (`shardable`) block the run would compute, only the
 * shard's rows go into the row cache; other blocks are left to the plain run that follows.
 */
export async function computeShard(opts: StageOptions & { shard: Shard }): Promise<ShardBlock[]> {
  const { log } = opts;
  const { keys, status } = planFeatures({ ...opts, seed: opts.rng.seed });
  const [lo, hi] = shardRows(opts.table.n, opts.shard);
  const out: ShardBlock[] = [];
  for (const entry of opts.entries) {
    const def = features.get(entry.kind);
    const base = { id: entry.id, kind: def.kind, rows: 0, computed: 0, cached: 0 };
    if (!def.shardable || def.labelAware) {
      out.push({ ...base, status: 'not per-row' });
      continue;
    }
    if (status[entry.id] !== 'compute') {
      out.push({ ...base, status: status[entry.id] === 'cached' ? 'block cached' : 'unused' });
      continue;
    }
    const before = { computed: log.counters[`${def.kind}.computed`] ?? 0, cached: log.counters[`${def.kind}.cached`] ?? 0 };
    log.at('features', `shard ${shardLabel(opts.shard)} of ${entry.id} (${def.kind}): rows ${lo}..${hi - 1}`);
    // the block is incomplete outside the shard: neither cached nor kept
    await (def as LabelFreeFeature).compute(featureContext(opts, entry, keys[entry.id], {}, opts.shard), entry.params);
    const computed = (log.counters[`${def.kind}.computed`] ?? 0) - before.computed;
    const cached = (log.counters[`${def.kind}.cached`] ?? 0) - before.cached;
    log.info('features', `${entry.id} (${def.kind}) shard ${shardLabel(opts.shard)}: ${hi - lo} rows, ${computed} computed, ${cached} from the cache`, { id: entry.id, shard: shardLabel(opts.shard), computed, cached });
    out.push({ ...base, status: 'computed', rows: hi - lo, computed, cached });
  }
  return out;
}

export async function computeFeatures(opts: StageOptions): Promise<FeatureBlocks> {
  const { table, log, cache } = opts;
  const fixed = new Map<string, Matrix>();
  const labelAware: LabelAwareBlock[] = [];
  const { keys, needed } = planFeatures({ ...opts, seed: opts.rng.seed });
  // Index of the last needed entry reading each block: after it, the block can go.
  const lastReader = new Map<string, number>();
  opts.entries.forEach((entry, e) => {
    if (needed.has(entry.id)) for (const i of entry.inputs) lastReader.set(i, e);
  });

  const byId = new Map(opts.entries.map((entry) => [entry.id, entry]));
  const contextOf = (entry: FeatureEntry, inputs: Record<string, Matrix>): FeatureContext => featureContext(opts, entry, keys[entry.id], inputs);
  // An input held in memory, or (when a cache entry turned out unreadable) read or computed again.
  const inputsOf = async (entry: FeatureEntry): Promise<Record<string, Matrix>> => {
    const inputs: Record<string, Matrix> = {};
    for (const i of entry.inputs) {
      const up = byId.get(i)!;
      if (features.get(up.kind).labelAware) throw new Error(`feature ${entry.id}: input "${i}" is label-aware; only label-free blocks can be inputs`);
      inputs[i] = fixed.get(i) ?? (await materialise(up)).block;
    }
    return inputs;
  };
  const materialise = async (entry: FeatureEntry): Promise<{ block: Matrix; hit: boolean }> => {
    const def = features.get(entry.kind) as LabelFreeFeature;
    const key = keys[entry.id];
    const cached = cache.get(key);
    if (cached) return { block: prefixed(entry.id, cached), hit: true };
    const block = await def.compute(contextOf(entry, await inputsOf(entry)), entry.params);
    if (block.rows !== table.n) throw new Error(`feature ${entry.id} (${def.kind}) returned ${block.rows} rows for ${table.n} posts`);
    cache.put(key, block, { id: entry.id, kind: def.kind, version: def.version, params: entry.params });
    return { block: prefixed(entry.id, block), hit: false };
  };

  for (const [e, entry] of opts.entries.entries()) {
    const def = features.get(entry.kind);
    const key = keys[entry.id];
    if (!needed.has(entry.id)) {
      log.info('features', `${entry.id} (${def.kind}): not read (only cached blocks use it)`, { id: entry.id, key, skipped: true });
      continue;
    }
    if (def.labelAware) {
      // Only its declared columns: the rest of the table can leave memory after this stage.
      const ctx = { ...contextOf(entry, await inputsOf(entry)), table: withColumns(table, def.tableColumns(entry.params)) };
      labelAware.push({ id: entry.id, def, params: entry.params, ctx });
      log.info('features', `${entry.id} (${def.kind}): label-aware, fitted inside each fold`);
      continue;
    }
    const t0 = Date.now();
    log.at('features', `computing ${entry.id} (${def.kind})`);
    const { block, hit } = await materialise(entry);
    fixed.set(entry.id, block);
    log.info('features', `${entry.id} (${def.kind}): ${block.cols} columns${hit ? ' (cached)' : ''} in ${((Date.now() - t0) / 1000).toFixed(1)}s`, { id: entry.id, key, cached: hit });
    // Blocks no later stage keeps leave memory after their last reader (the disk cache keeps them).
    for (const id of [entry.id, ...entry.inputs]) {
      if (!opts.keep.has(id) && (lastReader.get(id) ?? -1) <= e && fixed.delete(id)) log.event('features', { freed: id });
    }
  }
  return { fixed, labelAware, keys };
}

/**
 * The `rng` of a kind that declares no randomness: its cached block serves every seed, so a
 * draw would make the cache return another seed's values. Fails at the first touch instead.
 */
function seedFree(kind: string): Random {
  return new Proxy({} as Random, {
    get(_target, prop) {
      if (typeof prop === 'symbol') return undefined; // inspection
      throw new Error(`feature kind ${kind} uses ctx.rng.${prop} but does not declare \`random: true\` (its cache key holds no seed)`);
    },
  });
}

/** Column names carry their block id (`time.hour`) so importances name their source. */
export function prefixed(id: string, m: Matrix): Matrix {
  return { ...m, names: m.names.map((n) => `${id}.${n}`) };
}
