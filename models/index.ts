/**
 * @file The learner registry: every learner kind, by its pipeline `kind` name.
 */
import { createRegistry } from '../core/registry.ts';
import type { ModelDef } from './model.ts';
import { ridge } from './ridge.ts';
import { mlp } from './mlp.ts';

export const models = createRegistry<ModelDef>('learner', [ridge, mlp] as ModelDef[]);
