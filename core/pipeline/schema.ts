/**
 * @file The pipeline file schema, built from the feature and learner registries so each
 * `kind` brings its own params schema (a discriminated union on `kind`). Parameter help lives
 * once, in `.describe()`, and flows into pipelines/schema.json.
 */
import { z } from 'zod';
import type { FeatureDef } from '../../features/feature.ts';
import type { ModelDef } from '../../models/model.ts';
import type { Registry } from '../registry.ts';
import { COLUMN_ROLES, labelColumns, type TableSpec } from '../data/table-file.ts';

export const ID = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*$/, 'ids are lower-case letters, digits, "-" and "_", starting with a letter');

export const DATA_GROUPS = ['text', 'temporal', 'user', 'category', 'additional', 'video'] as const;

export const validationSchema = z
  .object({
    scheme: z
      .enum(['kfold', 'group-kfold', 'time', 'holdout'])
      .default('kfold')
      .describe('kfold: shuffled k folds; group-kfold: a group (user) never spans folds; time: the last valid_fraction of train by post date is the validation set; holdout: a random valid_fraction of train is (e.g. 0.3 for a 70/30 split)'),
    folds: z.number().int().default(5).describe('number of folds for kfold and group-kfold (>= 2)'),
    shuffle: z.boolean().default(true).describe('shuffle rows before assigning kfold folds'),
    group: z.string().default('uid').describe('column whose values never span two folds in group-kfold'),
    valid_fraction: z.number().gt(0).lt(1).default(0.2).describe('share of train rows validated by the time scheme (the newest by postdate) and the holdout scheme (random)'),
    stratify: z.boolean().default(true).describe('task: binary: kfold and holdout keep each class\'s share in every fold'),
    metric: z
      .enum(['src', 'mae', 'mape', 'rmse', 'auc', 'accuracy', 'precision', 'recall', 'f1'])
      .optional()
      .describe('metric for early stopping (on the label scale; a learner\'s own metric param wins), model selection and blending; default src (image), mape (video), auc (binary)'),
    early_stopping: z
      .enum(['fold', 'inner'])
      .default('inner')
      .describe(
        'rows that choose a learner\'s rounds / epochs: inner, an inner split of each fold\'s own training rows (cut like the scheme: newest by time, whole groups, or random; the learner fits the rest), so no out-of-fold row chooses its own model; fold, the fold\'s validation rows (the learner fits all its training rows, but the CV is optimistic and labelled so)',
      ),
    inner_fraction: z.number().min(0.05).max(0.5).default(0.15).describe('validation.early_stopping: inner: share of each fold\'s training rows to stop on'),
  })
  .strict();

export const postprocessSchema = z
  .object({
    clip: z.boolean().default(true).describe('clip predictions to the training label range'),
    calibrate: z.boolean().default(false).describe('affine calibration a + b*p fitted on the out-of-fold predictions (each fold\'s CV rows: fitted on the other folds)'),
    scale: z
      .union([z.number().positive(), z.literal('auto')])
      .default(1)
      .describe('multiply predictions by this factor, or "auto": the factor in scale_range best for the main metric on OOF rows, fitted without the fold it is scored on (the 2025 video winner used 1.05 for MAPE; SRC and AUC keep 1)'),
    scale_range: z.tuple([z.number().positive(), z.number().positive()]).default([0.9, 1.1]).describe('search range of scale: auto'),
    date_trend: z
      .boolean()
      .default(false)
      .describe('fit the OOF residual trend over post date and extend it to the (newer) test posts; the 2025 image winner lowered the newest posts'),
  })
  .strict();

export const labelsSchema = z
  .object({
    outliers: z.enum(['keep', 'iqr']).default('keep').describe('iqr: train rows with labels outside [Q1 - k*IQR, Q3 + k*IQR] are not fitted on (still validated)'),
    iqr_k: z.number().positive().default(1.5).describe('k of the IQR outlier filter'),
    transform: z
      .enum(['none', 'log', 'log1p'])
      .default('none')
      .describe('learners fit a transformed label (log suits MAPE: relative errors become absolute); predictions and metrics stay on the label scale'),
    binarize: z
      .union([
        z.object({ threshold: z.number().describe('label 1 when the raw label is above this value, else 0') }).strict(),
        z.object({ quantile: z.number().gt(0).lt(1).describe('label 1 when the raw label is above this quantile of the train labels, else 0') }).strict(),
      ])
      .optional()
      .describe('task: binary: derive 0/1 labels from numeric ones ({ threshold: x } or { quantile: q }); without it binary labels must already be 0/1'),
  })
  .strict();

/** Metrics that make sense for each task (validation.metric). */
export const TASK_METRICS = {
  regression: ['src', 'mae', 'mape', 'rmse'],
  binary: ['auc', 'accuracy', 'precision', 'recall', 'f1'],
} as const;

export const pseudoLabelSchema = z
  .object({
    rounds: z.number().int().min(0).default(0).describe('refinement rounds; each retrains every learner with pseudo-labelled test rows. A round replaces round 0 only when its mean per-fold gain exceeds its standard error'),
    fraction: z.number().gt(0).max(1).default(1).describe('share of test rows used, the most confident first (least disagreement between fold models)'),
    weight: z.number().gt(0).max(1).default(0.5).describe('training weight of a pseudo-labelled row (real rows weigh 1)'),
  })
  .strict();

export const submissionSchema = z
  .object({
    version: z.string().default('VERSION 1.2').describe('version string of the image-track JSON'),
    header: z
      .string()
      .regex(/^[^,\s]+,[^,\s]+$/, 'two comma-separated column names, e.g. pid,popularity_score')
      .default('pid,popularity_score')
      .describe("video-track CSV header, as the year's scorer reads it: pid,popularity_score (2025), pid,polularity_score (sic: the 2026 sample file and participants)"),
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
    method: z
      .enum(['best', 'mean', 'blend', 'stack'])
      .default('best')
      .describe('how outputs are combined: best CV member, mean, blend (greedy weights for the main metric), stack (stacker on OOF predictions)'),
    stacker: z
      .object({
        kind: z.string().default('nnls').describe('nnls (non-negative ridge) or any learner kind, e.g. gbdt'),
        alpha: z.number().min(0).default(0.001).describe('L2 penalty of nnls'),
        params: z.record(z.string(), z.unknown()).default({}).describe('params of a learner stacker'),
        raw_features: z.array(ID).default([]).describe('label-free feature blocks given to a learner stacker beside the OOF predictions'),
      })
      .strict()
      .prefault({}),
    blend_steps: z.number().int().min(1).default(100).describe('greedy selection steps of blend'),
    levels: z
      .array(z.record(ID, z.array(ID).min(1)))
      .default([])
      .describe('tiers: each level maps a group id to member ids of the level below (model ids first); the last outputs are combined into the final prediction'),
  })
  .strict();

export type EnsembleConfig = z.output<typeof ensembleSchema>;

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
        transform: z.enum(['none', 'log', 'log1p']).optional().describe('target transform for this learner (default: labels.transform)'),
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
      track: z
        .enum(['image', 'video', 'table'])
        .describe('image: SMPD Flickr layout and JSON submission; video: SMP-Video jsonl and CSV submission; table: one CSV / Parquet table (or train + test files) and a CSV <id>,<label> submission'),
      task: z.enum(['regression', 'binary']).default('regression'),
      seed: z.number().int().min(0).default(2025).describe('seed of every random choice; same seed, same bytes out'),
      data: z
        .object({
          root: z.string().describe('dataset folder (table track: a .csv / .parquet file, or a folder with train.<ext> and test.<ext>), relative to the pipeline file (or --data)'),
          id: z.string().optional().describe('table track: the id column (the first submission column)'),
          label: z
            .union([z.string(), z.array(z.string()).min(1)])
            .optional()
            .describe('table track: the label column (the second submission column), or a list of label columns: one target each (multi-target: per-target learners, metrics and files; one submission column per target)'),
          split: z.string().optional().describe('table track: column of train / test; without it rows with an empty label are test rows'),
          time: z.string().optional().describe('table track: date, timestamp or unix-seconds column, read as postdate (time kind, time validation)'),
          group: z.string().optional().describe('table track: user / artist column, read as uid (group-kfold, user-label-stats)'),
          columns: z
            .record(z.string(), z.enum(COLUMN_ROLES))
            .optional()
            .describe('table track: column roles overriding the inferred ones: numeric, categorical, text, image or ignore'),
          optional: z.array(z.enum(DATA_GROUPS)).default([]).describe('file groups that may be absent'),
          strict: z
            .boolean()
            .default(true)
            .describe('records of the other files whose post id is not in the posts file / image list are an error (a cut-short file); false: a warning, and they are ignored'),
        })
        .strict(),
      models_dir: z.string().optional().describe('folder of model weights (default: SMP_MODELS_DIR or ~/.cache/smp-kit/models)'),
      validation: validationSchema.prefault({}),
      labels: labelsSchema.prefault({}),
      features: z.array(union(featureEntries)).min(1),
      models: z.array(union(modelEntries)).min(1),
      ensemble: ensembleSchema.prefault({}),
      pseudo_labels: pseudoLabelSchema.prefault({}),
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
  transform?: 'none' | 'log' | 'log1p';
  params: Record<string, unknown>;
}

type Parsed = z.output<ReturnType<typeof buildPipelineSchema>>;

/** A validated pipeline; entry params are already parsed by their kind's schema. */
export type Pipeline = Omit<Parsed, 'features' | 'models' | 'name'> & { name: string; features: FeatureEntry[]; models: ModelEntry[] };

/** The table-track column spec of a pipeline's data section (undefined on the other tracks). */
export function tableSpecOf(p: Pick<Pipeline, 'track' | 'data'>): TableSpec | undefined {
  const d = p.data;
  if (p.track !== 'table' || d.id === undefined || d.label === undefined) return undefined;
  return { id: d.id, label: d.label, split: d.split, time: d.time, group: d.group, columns: d.columns };
}

/** The submission CSV header: `<id>,<label>[,<label 2>...]` on the table track, else submission.header. */
export function submissionHeader(p: Pick<Pipeline, 'track' | 'data' | 'submission'>): string {
  const t = tableSpecOf(p);
  return t ? [t.id, ...labelColumns(t)].join(',') : p.submission.header;
}

/** The targets of a pipeline: its label columns when it lists several (table track), else none. */
export function targetsOf(p: Pick<Pipeline, 'track' | 'data'>): string[] {
  const t = tableSpecOf(p);
  return t && typeof t.label !== 'string' && t.label.length > 1 ? t.label : [];
}
