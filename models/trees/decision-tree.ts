/**
 * @file Learner kind `decision-tree`: one CART-style tree on all rows and features, grown
 * best-first on the gbdt histogram code (models/trees/tree-fitter.ts): squared-error splits for
 * regression (leaf = mean label), Gini splits for binary tasks (squared error on 0/1 labels is
 * half the Gini impurity; leaf = class-1 share, the predicted probability). Missing values go
 * to the side learned at each split; categorical columns split into two groups of categories.
 *
 * @example
 *   - id: tree
 *     kind: decision-tree
 *     params: { max_depth: 6, min_data_in_leaf: 5 }
 */
import { z } from 'zod';
import { defineModel } from '../model.ts';
import { fitForest, loadForest } from './forest.ts';
import { treeShape } from './params.ts';

export const decisionTree = defineModel({
  kind: 'decision-tree',
  summary: 'One CART-style tree (Gini for binary, squared error for regression) on the gbdt histogram code.',
  importanceMethod: 'gain: total impurity reduction of the splits on the column (squared error; binary: Gini)',
  params: z.object(treeShape).strict(),
  fit(X, y, params, ctx) {
    return fitForest('decision-tree', X, y, { ...params, trees: 1, bootstrap: false, nodeFeatures: X.cols }, ctx);
  },
  load: (json) => loadForest('decision-tree', json),
});
