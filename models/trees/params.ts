/**
 * @file Parameters shared by the classic tree learners (decision-tree, random-forest,
 * adaboost): the shape of one tree and the binning of the training matrix. Names follow the
 * gbdt learner (LightGBM), each field described once.
 *
 * @example
 *   const p = z.object({ ...treeShape, n_estimators: z.number().int().default(100) }).strict();
 */
import { z } from 'zod';

export const treeShape = {
  max_depth: z.number().int().default(-1).describe('Maximum depth of a tree; -1 or 0 means unlimited (num_leaves still caps the tree).'),
  num_leaves: z
    .number()
    .int()
    .min(2)
    .max(4096)
    .default(255)
    .describe('Maximum number of leaves per tree (best-first growth; a tree stops earlier when no split reduces the impurity). Histogram memory is num_leaves x bins x 16 bytes.'),
  min_data_in_leaf: z
    .number()
    .int()
    .min(1)
    .default(1)
    .describe('Minimum number of training rows in a leaf (counted from the leaf\'s share of the row weights, as LightGBM does).'),
  min_gain_to_split: z.number().min(0).default(0).describe('Minimum impurity reduction (weighted squared error; half the weighted Gini decrease on 0/1 labels) a split must achieve.'),
  max_bin: z.number().int().min(2).max(255).default(255).describe('Maximum number of value bins per numeric feature (missing values get one extra bin); with fewer distinct values every value is its own bin, as exact CART.'),
  bin_sample_rows: z.number().int().min(1000).default(200_000).describe('Rows sampled (seeded) to find the quantile bin boundaries of each feature.'),
  num_threads: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('Threads for histogram building (the gbdt worker pool: the main thread plus num_threads-1 workers); 0 picks min(2, cores) and 1 for small data. Results do not depend on it.'),
};

/** The tree-shape fields as parsed. */
export interface TreeShape {
  max_depth: number;
  num_leaves: number;
  min_data_in_leaf: number;
  min_gain_to_split: number;
  max_bin: number;
  bin_sample_rows: number;
  num_threads: number;
}
