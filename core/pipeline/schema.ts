/**
 * @file The pipeline file schema, built from the feature and learner registries so each
 * `kind` brings its own params schema (a discriminated union on `kind`). Parameter help lives
 * once, in `.describe()`, and flows into pipelines/schema.json.
 */
import { z } from 'zod';
import type { FeatureDef } from '../../features/feature.ts';
import type { ModelDef } from '../../models/model.ts';
import type { Registry } from '../registry.ts';

export const ID = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*$/, 'ids are lower-case letters, digits, "-" and "_", starting with a letter');

export const DATA_GROUPS = ['text', 'temporal', 'user', 'category', 'additional', 'video'] as const;

export const validationSchema = z
  .object({
    scheme: z
      .enum(['kfold', 'group-kfold', 'time'])
      .default('kfold')
      .describe('kfold: shuffled k folds; group-kfold: a group (user) never spans folds; time: the last valid_fraction of train by post date is the validation set'),
    folds: z.number().int().default(5).describe('number of folds for kfold and group-kfold (>= 2)'),
    shuffle: z.boolean().default(true).describe('shuffle rows before assigning kfold folds'),
    group: z.string().default('uid').describe('column whose values never span two folds in group-kfold'),
    valid_fraction: z.number().gt(0).lt(1).default(0.2).describe('share of train rows (newest by postdate) validated by the time scheme'),
    metric: z
      .enum(['src', 'mae', 'mape', 'rmse', 'auc', 'accuracy'])
      .optional()
      .describe('metric for early stopping, model selection and blending; default src (image), mape (video), auc (binary)'),
  })
  .strict();

export const postprocessSchema = z
  .object({
    clip: z.boolean().default(true).describe('clip predictions to the training label range'),
    scale: z.number().positive().default(1).describe('multiply final predictions by this factor (the 2025 video winner used 1.05)'),
  })
  .strict();

export const submissionSchema = z
  .object({
    version: z.string().default('VERSION 1.2').describe('version string of the image-track JSON'),
    external_data: z
      .object({
        used: z.enum(['true', 'false']).default('false'),
        details: z.string().default(''),
      })
      .strict()
      .prefault({})
      .describe('declared external data (pre-trained models count)'),
  })
  .strict();

export const ensembleSchema = z
  .object({
    method: z.enum(['best', 'mean']).default('best').describe('best: the model with the best CV metric; mean: average of all models'),
  })
  .strict();

export function buildPipelineSchema(features: Registry<FeatureDef>, models: Registry<ModelDef>) {
  const featureEntries = features.all().map((f) =>
    z
      .object({
        id: ID,
        kind: z.literal(f.kind).describe(f.summary),
        inputs: z.array(ID).default([]).describe('ids of upstream feature blocks this block reads'),
        params: (f.params as z.ZodType).prefault({}),
      })
      .strict(),
  );
  const modelEntries = models.all().map((m) =>
    z
      .object({
        id: ID,
        kind: z.literal(m.kind).describe(m.summary),
        features: z.array(ID).optional().describe('feature block ids this learner sees (default: all)'),
        params: (m.params as z.ZodType).prefault({}),
      })
      .strict(),
  );
  const union = <T extends z.ZodObject[]>(entries: T) =>
    entries.length === 1 ? entries[0] : z.discriminatedUnion('kind', entries as unknown as [z.ZodObject, z.ZodObject, ...z.ZodObject[]]);

  return z
    .object({
      name: ID.optional().describe('pipeline name (default: the file name); runs go to runs/<name>/'),
      description: z.string().optional(),
      track: z.enum(['image', 'video']).describe('image: SMPD Flickr layout and JSON submission; video: SMP-Video jsonl and CSV submission'),
      task: z.enum(['regression', 'binary']).default('regression'),
      seed: z.number().int().min(0).default(2025).describe('seed of every random choice; same seed, same bytes out'),
      data: z
        .object({
          root: z.string().describe('dataset folder, relative to the pipeline file (or --data)'),
          optional: z.array(z.enum(DATA_GROUPS)).default([]).describe('file groups that may be absent'),
        })
        .strict(),
      models_dir: z.string().optional().describe('folder of model weights (default: SMP_MODELS_DIR or ~/.cache/smp-kit/models)'),
      validation: validationSchema.prefault({}),
      features: z.array(union(featureEntries)).min(1),
      models: z.array(union(modelEntries)).min(1),
      ensemble: ensembleSchema.prefault({}),
      postprocess: postprocessSchema.prefault({}),
      submission: submissionSchema.prefault({}),
    })
    .strict();
}

export interface FeatureEntry {
  id: string;
  kind: string;
  inputs: string[];
  params: Record<string, unknown>;
}

export interface ModelEntry {
  id: string;
  kind: string;
  features?: string[];
  params: Record<string, unknown>;
}

type Parsed = z.output<ReturnType<typeof buildPipelineSchema>>;

/** A validated pipeline; entry params are already parsed by their kind's schema. */
export type Pipeline = Omit<Parsed, 'features' | 'models' | 'name'> & { name: string; features: FeatureEntry[]; models: ModelEntry[] };
