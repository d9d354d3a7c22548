/**
 * @file The learner registry: every learner kind, by its pipeline `kind` name.
 */
import { createRegistry } from '../core/registry.ts';
import type { ModelDef } from './model.ts';
import { ridge } from './ridge.ts';
import { gbdt } from './gbdt/index.ts';
import { mlp } from './mlp.ts';
import { decisionTree } from './trees/decision-tree.ts';
import { randomForest } from './trees/random-forest.ts';
import { adaboost } from './trees/adaboost.ts';

export const models = createRegistry<ModelDef>('learner', [
  ridge,
  gbdt,
  mlp,
  decisionTree,
  randomForest,
  adaboost,
] as ModelDef[]);
