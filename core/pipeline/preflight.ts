/**
 * @file Checks made after the dataset is read and before the first feature block, so a run
 * that cannot succeed fails in seconds: binary labels (0/1, or derived by `labels.binarize`),
 * and the model folders of every embedding block that will be computed (one error listing all
 * missing models). The checks that need only the pipeline file live in load.ts.
 *
 * @example
 *   prepareLabels(table, pipeline, locate, log);
 *   checkModels(plan, pipeline.features, modelsDir);
 */
import type { Table } from '../data/table.ts';
import { UserError } from '../errors.ts';
import { quantileSorted } from '../eval/quantile.ts';
import type { RunLog } from '../report/run-log.ts';
import { features } from '../../features/index.ts';
import { missingModel, missingModelsMessage, type MissingModel } from '../../features/embed/models.ts';
import { downloadsAllowedByEnv } from '../../features/embed/models.ts';
import { cudaProblem } from '../../features/embed/device.ts';
import type { PathKey } from './load.ts';
import type { FeaturePlan } from './feature-stage.ts';
import type { FeatureEntry, Pipeline } from './schema.ts';

/**
 * Binary task: turns the train labels into 0/1 in place (labels.binarize), or checks they
 * already are; every later stage (label-aware blocks, learners, metrics) reads these.
 */
export function prepareLabels(table: Table, p: Pipeline, locate: (p: readonly PathKey[]) => string, log: RunLog): void {
  if (p.task !== 'binary') return;
  // Several targets: each label column on its own (labels[first] is table.label itself).
  if (table.labels) {
    for (const [name, label] of Object.entries(table.labels)) {
      log.info('labels', `target ${name}`);
      prepareLabels({ ...table, label, labels: undefined }, { ...p, data: { ...p.data, label: name } }, locate, log);
    }
    return;
  }
  const y = table.label.subarray(0, table.nTrain);
  const b = p.labels.binarize;
  if (b) {
    const threshold = 'threshold' in b ? b.threshold : quantileSorted(Float64Array.from(y).sort(), b.quantile);
    for (let i = 0; i < y.length; i++) y[i] = y[i] > threshold ? 1 : 0;
    const pos = y.reduce((s, v) => s + v, 0);
    log.info('labels', `binarized: label 1 when above ${Number(threshold.toFixed(6))}${'quantile' in b ? ` (quantile ${b.quantile})` : ''}: ${pos} of ${y.length} train rows`);
    if (pos === 0 || pos === y.length)
      throw new UserError(`${locate(['labels', 'binarize'])} labels.binarize: every train label becomes ${pos ? 1 : 0} (threshold ${threshold}); pick a threshold inside the label range`);
    return;
  }
  const source = p.track === 'table' && p.data.label ? `column "${p.data.label}" of ${table.sources.join(' / ')}` : table.root;
  const bad = new Set<number>();
  for (const v of y) if (v !== 0 && v !== 1 && bad.size < 5) bad.add(v);
  if (bad.size) {
    let [lo, hi] = [Infinity, -Infinity];
    for (const v of y) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    throw new UserError(
      `${locate(['task'])} task: binary needs 0/1 train labels, but ${source} has labels such as ${[...bad].join(', ')} (range ${lo} to ${hi}). ` +
        `Derive them with \`labels: { binarize: { threshold: x } }\` (label 1 above x) or \`labels: { binarize: { quantile: q } }\` (e.g. q = 0.5: above the median).`,
    );
  }
  if (!y.includes(0) || !y.includes(1)) throw new UserError(`${locate(['task'])} task: binary needs both classes, but every train label of ${source} is ${y[0]}`);
}

/**
 * Every model an embedding block that will be computed needs must be in the models folder
 * (unless that block may download it): one error naming all the missing ones, the folder
 * and the fetch commands, before any feature work.
 */
export function checkModels(plan: FeaturePlan, entries: readonly FeatureEntry[], modelsDir: string): void {
  const byModel = new Map<string, { need: ReturnType<NonNullable<ReturnType<typeof features.get>['models']>>[number]; users: string[] }>();
  for (const entry of entries) {
    const def = features.get(entry.kind);
    if (!def.models || plan.status[entry.id] !== 'compute') continue;
    for (const need of def.models(entry.params)) {
      if (need.allowDownload || downloadsAllowedByEnv()) continue;
      const k = `${need.id}|${need.dtype}`;
      const seen = byModel.get(k);
      if (seen) {
        seen.need = { ...seen.need, roles: [...new Set([...seen.need.roles, ...need.roles])] };
        seen.users.push(entry.id);
      } else byModel.set(k, { need, users: [entry.id] });
    }
  }
  const missing: (MissingModel & { users: string[] })[] = [];
  for (const { need, users } of byModel.values()) {
    const m = missingModel(modelsDir, need.id, need.roles, need.dtype);
    if (m) missing.push({ ...m, users });
  }
  if (missing.length) throw new UserError(missingModelsMessage(modelsDir, missing));
}

/**
 * Blocks to compute with `device: cuda` need a working CUDA provider: checked once before any
 * feature work, one error naming each such block (pipeline line) and what is missing.
 */
export async function checkDevices(plan: FeaturePlan, entries: readonly FeatureEntry[], locate: (p: readonly PathKey[]) => string): Promise<void> {
  const users = entries.flatMap((e, i) => ((e.params as { device?: unknown }).device === 'cuda' && plan.status[e.id] === 'compute' ? [`${locate(['features', i, 'params', 'device'])} ${e.id}`] : []));
  if (users.length === 0) return;
  const problem = await cudaProblem();
  if (problem) throw new UserError(`device: cuda (${users.join('; ')}): ${problem}. Use device: auto (CUDA when it works, else CPU) or device: cpu.`);
}
