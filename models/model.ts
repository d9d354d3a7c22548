/**
 * @file The learner contract. A learner kind is a frozen definition: a zod schema for its
 * params and a `fit` that returns an immutable fitted model. No constructors, no hidden state.
 *
 * @example
 *   const fitted = await ridge.fit(X, y, ridge.params.parse({ alpha: 1 }), { seed: 1, task: 'regression' });
 *   const p = fitted.predict(Xtest);
 *   const again = ridge.load(JSON.parse(JSON.stringify(fitted.toJSON())));
 */
import type { z } from 'zod';
import type { Matrix } from '../core/matrix.ts';
import type { MetricName } from '../core/eval/metrics.ts';

export type Task = 'regression' | 'binary';

export interface FitContext {
  /** Seed for everything random inside fit. */
  seed: number;
  task: Task;
  /** Validation rows for early stopping (never used to fit parameters); y on the scale of the training y. */
  valid?: { X: Matrix; y: Float64Array };
  /**
   * Early-stopping metric (the run's validation.metric; a learner's own `metric` param wins),
   * scored on the label scale: predictions and valid.y go through `toLabel` first.
   */
  metric?: MetricName;
  /** Maps the fitted target back to the label scale (the inverse of a target transform such as log). */
  toLabel?: (v: number) => number;
  /**
   * Refit without validation rows: train the rounds / epochs an early-stopped fit of `rows`
   * rows chose (its `iterations`). Each learner scales the count to its own row count as its
   * iterations mean (gbdt: rounds x n / rows; mlp: the same epochs, an epoch already grows with n).
   */
  iterations?: { count: number; rows: number };
  /** Per-row training weights (pseudo-labelled rows get less than 1). */
  weight?: Float64Array;
  /** Called after each boosting round / epoch (counted from 1) with the current validation metrics. */
  onIter?: (iter: number, metrics: Readonly<Record<string, number>>) => void;
  /** Log line sink (run log); defaults to nothing. */
  log?: (message: string) => void;
}

/** Several targets fitted at once: the same context with, per target, its labels' weights and validation labels. */
export interface JointFitContext extends Omit<FitContext, 'valid' | 'weight'> {
  /** Validation rows with one label array per target (NaN: no label there). */
  valid?: { X: Matrix; ys: Float64Array[] };
  /** Per target, per-row training weights (0: the row does not fit that target); absent = all 1. */
  weights?: Float64Array[];
}

export interface FittedModel {
  readonly kind: string;
  /** One prediction per row of X (probabilities for binary tasks). */
  predict(X: Matrix): Float64Array;
  /**
   * Rounds / epochs the model kept when validation rows chose them (early stopping, the best
   * epoch); undefined when no validation rows chose anything.
   */
  readonly iterations?: number;
  /** Feature name -> importance (gain where the learner has it). */
  importance(): Record<string, number>;
  /** Plain JSON; `load` of the same kind rebuilds an identical predictor. */
  toJSON(): unknown;
  /** Gated learners: mean gate weight per expert on the fit's validation rows (the report's gate table). */
  gates?(): GateSummary | undefined;
}

/** Mean gate weight per expert over some rows: 'all' first, then per value of a segment column. */
export interface GateSummary {
  experts: string[];
  segment?: string;
  rows: { segment: string; n: number; mean: number[] }[];
}

export interface ModelDef<P = unknown> {
  readonly kind: string;
  /** One line for `--help` and the registry listing. */
  readonly summary: string;
  /** What `importance()` measures, named beside the importance shares in reports. */
  readonly importanceMethod: string;
  readonly params: z.ZodType<P>;
  /** True when fit with these params lets validation rows choose something (early stopping); absent: never. */
  usesValidation?(params: P): boolean;
  /** X and ctx.valid.X are the runner's buffers, overwritten by the next fold: keep no view of them. */
  fit(X: Matrix, y: Float64Array, params: P, ctx: FitContext): Promise<FittedModel> | FittedModel;
  /** True when, in a run with several targets, these params fit them all at once with `fitJoint`. */
  joint?(params: P): boolean;
  /** One model for several targets (ys: one label array per target, in order); one fitted model per target. */
  fitJoint?(X: Matrix, ys: Float64Array[], params: P, ctx: JointFitContext): Promise<FittedModel[]>;
  load(json: unknown): FittedModel;
}

export function defineModel<S extends z.ZodType>(def: {
  kind: string;
  summary: string;
  importanceMethod: string;
  params: S;
  usesValidation?(params: z.output<S>): boolean;
  fit(X: Matrix, y: Float64Array, params: z.output<S>, ctx: FitContext): Promise<FittedModel> | FittedModel;
  joint?(params: z.output<S>): boolean;
  fitJoint?(X: Matrix, ys: Float64Array[], params: z.output<S>, ctx: JointFitContext): Promise<FittedModel[]>;
  load(json: unknown): FittedModel;
}): ModelDef<z.output<S>> {
  return Object.freeze({ ...def }) as ModelDef<z.output<S>>;
}
