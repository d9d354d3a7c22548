/**
 * @file Parameters of the `gbdt` learner: one zod schema, each field described once (the
 * single home of parameter help for `--help`, JSON Schema and the docs). Names follow LightGBM.
 *
 * @example
 *   const p = gbdtParams.parse({ num_leaves: 63, learning_rate: 0.05 });
 */
import { z } from 'zod';
import type { MetricName } from '../../core/eval/metrics.ts';

export const OBJECTIVES = ['l2', 'l1', 'huber', 'pseudo_huber', 'mape', 'binary'] as const;
export const ES_METRICS = ['rmse', 'mae', 'mape', 'src', 'auc', 'logloss'] as const satisfies readonly MetricName[];

export const gbdtParams = z
  .object({
    objective: z
      .enum(OBJECTIVES)
      .optional()
      .describe(
        'Loss to minimise: l2 (squared error), l1 (absolute error, leaves refit to the median), huber (quadratic within delta, linear beyond), pseudo_huber (smooth huber), mape (l1 weighted by 1/|y|, leaves refit to the weighted median), binary (log-loss, predictions are probabilities). Default: l2 for regression tasks, binary for binary tasks.',
      ),
    delta: z.number().positive().default(1).describe('Transition point of the huber and pseudo_huber losses (in target units).'),
    n_estimators: z.number().int().min(1).default(100).describe('Number of boosting rounds (trees).'),
    learning_rate: z.number().positive().max(1).default(0.1).describe('Shrinkage applied to every leaf value.'),
    num_leaves: z.number().int().min(2).max(4096).default(31).describe('Maximum number of leaves per tree (leaf-wise, best-first growth).'),
    max_depth: z.number().int().default(-1).describe('Maximum depth of a tree; -1 or 0 means unlimited (num_leaves still caps the tree).'),
    min_data_in_leaf: z.number().int().min(1).default(20).describe('Minimum number of training rows in a leaf.'),
    min_sum_hessian_in_leaf: z.number().min(0).default(1e-3).describe('Minimum sum of hessians (row weight for l2) in a leaf.'),
    lambda_l1: z.number().min(0).default(0).describe('L1 regularisation of leaf values.'),
    lambda_l2: z.number().min(0).default(0).describe('L2 regularisation of leaf values.'),
    min_gain_to_split: z.number().min(0).default(0).describe('Minimum loss reduction a split must achieve.'),
    max_bin: z.number().int().min(2).max(255).default(255).describe('Maximum number of value bins per numeric feature (missing values get one extra bin).'),
    bin_sample_rows: z
      .number()
      .int()
      .min(1000)
      .default(200_000)
      .describe('Rows sampled (seeded) to find the quantile bin boundaries of each feature.'),
    feature_fraction: z.number().gt(0).max(1).default(1).describe('Fraction of features drawn (seeded) for each tree.'),
    bagging_fraction: z.number().gt(0).max(1).default(1).describe('Fraction of rows drawn (seeded, without replacement) for bagging; 1 disables bagging.'),
    bagging_freq: z.number().int().min(0).default(0).describe('Redraw the bagging sample every k rounds; 0 disables bagging.'),
    early_stopping_rounds: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Stop when the validation metric has not improved for this many rounds and keep the best round; 0 disables. Needs a validation set.'),
    metric: z
      .enum(ES_METRICS)
      .optional()
      .describe('Validation metric for early stopping and onIter, on the label scale (after the inverse of a target transform): rmse, mae, mape, src, auc, logloss. Default: the pipeline\'s validation.metric, else rmse for regression and logloss for binary.'),
    cat_smooth: z.number().min(0).default(10).describe('Categorical splits: smoothing added to the hessian when ordering categories by gradient/hessian; categories with fewer rows than this are left out of the ordering (LightGBM).'),
    cat_l2: z.number().min(0).default(10).describe('Categorical splits: extra L2 regularisation for sorted-category splits.'),
    min_data_per_group: z.number().int().min(1).default(100).describe('Categorical splits: minimum rows in a group of categories on either side.'),
    max_cat_threshold: z.number().int().min(1).default(32).describe('Categorical splits: maximum number of categories on the left side of a split.'),
    max_cat_to_onehot: z.number().int().min(1).default(4).describe('Categorical splits: with at most this many categories, try one-vs-rest splits instead of sorted groups.'),
    num_threads: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe(
        'Threads for histogram building (the main thread plus num_threads-1 workers); 1 runs without workers; 0 picks min(2, available cores) and 1 for small data. Results do not depend on it.',
      ),
    verbose: z.number().int().min(0).default(0).describe('Log the validation metric every k rounds through the run log; 0 is silent.'),
  })
  .strict();

export type GbdtParams = z.output<typeof gbdtParams>;
