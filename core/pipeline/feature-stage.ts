/**
 * @file Computes the label-free feature blocks of a pipeline in order, through the block
 * cache, and collects the label-aware ones for the training stage to fit inside each fold.
 */
import path from 'node:path';
import type { Table } from '../data/table.ts';
import type { Matrix } from '../matrix.ts';
import type { Random } from '../random.ts';
import type { RunLog } from '../report/run-log.ts';
import { BlockCache, fingerprintFiles, hashOf } from '../cache/block-cache.ts';
import { KIT_VERSION } from '../version.ts';
import { features } from '../../features/index.ts';
import type { FeatureContext, LabelAwareFeature } from '../../features/feature.ts';
import type { FeatureEntry } from './schema.ts';

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

export async function computeFeatures(opts: {
  entries: readonly FeatureEntry[];
  table: Table;
  fingerprint: string;
  rng: Random;
  log: RunLog;
  cache: BlockCache;
  modelsDir: string;
}): Promise<FeatureBlocks> {
  const { table, log, cache } = opts;
  const fixed = new Map<string, Matrix>();
  const labelAware: LabelAwareBlock[] = [];
  const keys: Record<string, string> = {};
  for (const entry of opts.entries) {
    const def = features.get(entry.kind);
    const key = hashOf(KIT_VERSION, `${def.kind}@${def.version}`, entry.params, entry.inputs.map((i) => keys[i]), opts.fingerprint, opts.rng.seed, ...(def.inputFiles ? [fingerprintFiles(def.inputFiles(table, entry.params))] : []));
    keys[entry.id] = key;
    const inputs: Record<string, Matrix> = {};
    for (const i of entry.inputs) {
      const m = fixed.get(i);
      if (!m) throw new Error(`feature ${entry.id}: input "${i}" is label-aware; only label-free blocks can be inputs`);
      inputs[i] = m;
    }
    const ctx: FeatureContext = {
      table,
      inputs,
      rng: opts.rng.fork(`feature:${def.kind}:${key}`),
      log,
      cacheDir: path.join(cache.dir, 'rows'),
      modelsDir: opts.modelsDir,
    };
    if (def.labelAware) {
      labelAware.push({ id: entry.id, def, params: entry.params, ctx });
      log.info('features', `${entry.id} (${def.kind}): label-aware, fitted inside each fold`);
      continue;
    }
    const t0 = Date.now();
    let block = cache.get(key);
    const hit = block !== null;
    if (!block) {
      block = await def.compute(ctx, entry.params);
      if (block.rows !== table.n) throw new Error(`feature ${entry.id} (${def.kind}) returned ${block.rows} rows for ${table.n} posts`);
      cache.put(key, block, { id: entry.id, kind: def.kind, version: def.version, params: entry.params });
    }
    fixed.set(entry.id, prefixed(entry.id, block));
    log.info('features', `${entry.id} (${def.kind}): ${block.cols} columns${hit ? ' (cached)' : ''} in ${((Date.now() - t0) / 1000).toFixed(1)}s`, { id: entry.id, key, cached: hit });
  }
  return { fixed, labelAware, keys };
}

/** Column names carry their block id (`time.hour`) so importances name their source. */
export function prefixed(id: string, m: Matrix): Matrix {
  return { ...m, names: m.names.map((n) => `${id}.${n}`) };
}
