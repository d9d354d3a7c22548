/**
 * @file Learner kind `random-forest` (Breiman 2001): many trees, each grown on a bootstrap
 * sample of the rows (per-row draw counts used as weights on the one binned matrix, no row
 * copies) and searching a random subset of the features at every node (max_features, drawn
 * per node), averaged. Trees as in `decision-tree` (Gini / squared error, leaf = class-1 share
 * or mean), grown on the gbdt worker pool (histograms split over both cores by feature).
 * Unlike scikit-learn, a node whose drawn features hold no valid split stays a leaf (no
 * further draws); there are no out-of-bag scores (the runner's folds validate).
 *
 * @example
 *   - id: rf
 *     kind: random-forest
 *     params: { n_estimators: 300, max_features: sqrt, min_data_in_leaf: 2 }
 */
import { z } from 'zod';
import type { Task } from '../model.ts';
import { defineModel } from '../model.ts';
import { fitForest, loadForest } from './forest.ts';
import { treeShape } from './params.ts';

const params = z
  .object({
    n_estimators: z.number().int().min(1).default(100).describe('Number of trees.'),
    bootstrap: z.boolean().default(true).describe('Grow each tree on n rows drawn with replacement (seeded); false: every tree sees every row.'),
    max_features: z
      .union([z.enum(['sqrt', 'log2', 'third', 'all']), z.number().gt(0).max(1)])
      .optional()
      .describe('Features searched at each node: sqrt, log2 or third of the column count, all, or a fraction in (0, 1]. Default: sqrt for binary tasks, third for regression (Breiman).'),
    ...treeShape,
  })
  .strict();

/** Features per node for max_features over F columns (at least 1). */
export function nodeFeatureCount(maxFeatures: z.output<typeof params>['max_features'], F: number, task: Task): number {
  const m = maxFeatures ?? (task === 'binary' ? 'sqrt' : 'third');
  const k = m === 'sqrt' ? Math.sqrt(F) : m === 'log2' ? Math.log2(F) : m === 'third' ? F / 3 : m === 'all' ? F : m * F;
  return Math.max(1, Math.min(F, Math.floor(k)));
}

export const randomForest = defineModel({
  kind: 'random-forest',
  summary: 'Random forest: bootstrap rows, random features per node, averaged CART trees on the gbdt worker pool.',
  importanceMethod: 'gain: impurity reduction of the splits on the column, averaged over the trees',
  params,
  fit(X, y, p, ctx) {
    const { n_estimators, bootstrap, max_features, ...shape } = p;
    return fitForest('random-forest', X, y, { ...shape, trees: n_estimators, bootstrap, nodeFeatures: nodeFeatureCount(max_features, X.cols, ctx.task) }, ctx);
  },
  load: (json) => loadForest('random-forest', json),
});
