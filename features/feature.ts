/**
 * @file The feature-block contract. A feature kind turns the dataset (and upstream blocks) into
 * a named float32 block with one row per post. Label-free kinds implement `compute` and are
 * cached; label-aware kinds (target statistics) implement `fit`, which the runner calls inside
 * each fold on that fold's training rows only, so no label reaches a validation row.
 *
 * @example
 *   export const time = defineFeature({
 *     kind: 'time', version: 1, summary: 'hour, weekday, ...',
 *     params: z.object({ parts: z.array(z.enum(['hour'])).default(['hour']) }).strict(),
 *     compute: ({ table }, params) => fromColumns([...], [...]),
 *   });
 */
import type { z } from 'zod';
import type { Matrix } from '../core/matrix.ts';
import type { Table } from '../core/data/table.ts';
import type { Random } from '../core/random.ts';
import type { RunLog } from '../core/report/run-log.ts';
import type { ModelNeed } from './embed/models.ts';
import type { Shard } from '../core/pipeline/shard.ts';

export interface FeatureContext {
  readonly table: Table;
  /** Blocks named in the entry's `inputs`, by id. */
  readonly inputs: Readonly<Record<string, Matrix>>;
  /** Seeded for kinds that declare `random`; throws on use for the others. */
  readonly rng: Random;
  readonly log: RunLog;
  /** Folder for per-row caches (embedding shards) of this block. */
  readonly cacheDir: string;
  /** Folder where model weights are looked up. */
  readonly modelsDir: string;
  /**
   * Set by `smp run --shard i/N` for `shardable` kinds: compute only this shard's rows into the
   * per-row cache; the returned block is then incomplete and is neither cached nor used.
   */
  readonly shard?: Shard;
}

/** Output of a label-aware block fitted on one fold's training rows. */
export interface FittedFeature {
  /** Values for the training rows themselves, computed so that no row sees its own label. */
  readonly train: Matrix;
  /** Values for any other rows (validation, test), from all training rows. */
  apply(rows: Int32Array): Matrix;
}

interface FeatureBase<S extends z.ZodType> {
  readonly kind: string;
  /** Bump when the output changes for the same params: it is part of the cache key. */
  readonly version: number;
  readonly summary: string;
  readonly params: S;
  /**
   * The kind draws from `ctx.rng` (seeded sampling, k-means++ starts, randomized SVD, inner
   * folds), so the run's seed joins its cache key. Kinds without it are seed-free: one cached
   * block serves every seed, and their `ctx.rng` throws if drawn from.
   */
  readonly random?: boolean;
  /**
   * Files outside the dataset that the block reads (e.g. a user's embeddings file), as absolute
   * paths of existing files; their content joins the block's cache key, so editing them
   * recomputes the block.
   */
  inputFiles?(table: Table, params: z.output<S>): string[];
  /**
   * Fails (UserError) when the dataset lacks what the params name (a column); the runner calls
   * it before any feature work.
   */
  check?(table: Table, params: z.output<S>): void;
  /** Pre-trained models the block loads: checked before any feature work (core/pipeline/preflight.ts). */
  models?(params: z.output<S>): ModelNeed[];
  /** Its expensive work is per row and cached per row (embed/row-cache.ts), so `smp run --shard i/N` can split it over machines. */
  readonly shardable?: boolean;
}

export interface LabelFreeFeature<S extends z.ZodType = z.ZodType> extends FeatureBase<S> {
  readonly labelAware: false;
  compute(ctx: FeatureContext, params: z.output<S>): Promise<Matrix> | Matrix;
}

export interface LabelAwareFeature<S extends z.ZodType = z.ZodType> extends FeatureBase<S> {
  readonly labelAware: true;
  /**
   * Table columns `fit` reads (pid, uid and label are always there). Only these reach its
   * context: the runner releases the other columns (user vectors, texts) once the label-free
   * blocks are built, so they do not sit in memory through training.
   */
  tableColumns(params: z.output<S>): string[];
  fit(ctx: FeatureContext, params: z.output<S>, trainRows: Int32Array, y: Float64Array): FittedFeature;
}

export type FeatureDef<S extends z.ZodType = z.ZodType> = LabelFreeFeature<S> | LabelAwareFeature<S>;

export function defineFeature<S extends z.ZodType>(def: Omit<LabelFreeFeature<S>, 'labelAware'>): LabelFreeFeature<S>;
export function defineFeature<S extends z.ZodType>(def: Omit<LabelAwareFeature<S>, 'labelAware'> & { labelAware: true }): LabelAwareFeature<S>;
export function defineFeature<S extends z.ZodType>(def: Omit<LabelFreeFeature<S>, 'labelAware'> | LabelAwareFeature<S>): FeatureDef<S> {
  return Object.freeze({ labelAware: false, ...def }) as FeatureDef<S>;
}
