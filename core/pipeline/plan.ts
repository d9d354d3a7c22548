/**
 * @file The text `smp run --dry-run` prints: each feature block and whether it is cached, the
 * models with their blocks and estimated training size (rows x columns, columns known for
 * cached blocks), folds, ensemble and pseudo-label rounds. Nothing is computed.
 */
import type { BlockCache } from '../cache/block-cache.ts';
import type { Table } from '../data/table.ts';
import { features } from '../../features/index.ts';
import type { FeaturePlan } from './feature-stage.ts';
import type { Pipeline } from './schema.ts';

const STATUS = {
  cached: 'cached',
  compute: 'to compute',
  'label-aware': 'label-aware, fitted in each fold',
  unused: 'not read (only cached blocks use it)',
} as const;

export function describePlan(p: Pipeline, table: Table, plan: FeaturePlan, modelIds: string[][], cache: BlockCache): string {
  const v = p.validation;
  const cols = (id: string): number | null => (plan.status[id] === 'cached' ? cache.columns(plan.keys[id]) : null);
  // Rows a learner fits on in one fold.
  const fitRows = v.scheme === 'time' || v.scheme === 'holdout' ? Math.round(table.nTrain * (1 - v.valid_fraction)) : Math.round((table.nTrain * (v.folds - 1)) / v.folds);
  const lines = [
    `plan: ${p.name} (${p.track} track, ${p.task}, seed ${p.seed})`,
    `data: ${p.data.root}: ${table.nTrain} train + ${table.nTest} test posts`,
    'features:',
    ...p.features.map((f) => {
      const c = cols(f.id);
      return `  ${f.id.padEnd(16)} ${features.get(f.kind).kind.padEnd(18)} ${STATUS[plan.status[f.id]]}${c === null ? '' : `, ${c} columns`}  key ${plan.keys[f.id]}`;
    }),
    `validation: ${v.scheme === 'time' ? `time-ordered holdout, newest ${Math.round(v.valid_fraction * 100)}% of train` : v.scheme === 'holdout' ? `holdout, random ${Math.round(v.valid_fraction * 100)}% of train` : `${v.scheme}, ${v.folds} folds`}${v.metric ? `, metric ${v.metric}` : ''}`,
    'models:',
    ...p.models.map((m, i) => {
      const known = modelIds[i].map(cols);
      const sum = known.reduce<number>((s, c) => s + (c ?? 0), 0);
      const unknown = modelIds[i].filter((_, j) => known[j] === null);
      const size = `~${fitRows} rows x ${sum}${unknown.length ? `+ columns (not yet known: ${unknown.join(', ')})` : ' columns'}`;
      return `  ${m.id.padEnd(16)} ${m.kind.padEnd(8)} blocks ${modelIds[i].join(', ')}; ${size} per fold`;
    }),
    `ensemble: ${p.ensemble.method}${p.ensemble.method === 'stack' ? ` (stacker ${p.ensemble.stacker.kind}${p.ensemble.stacker.raw_features.length ? ` + raw ${p.ensemble.stacker.raw_features.join(', ')}` : ''})` : ''}` +
      (p.pseudo_labels.rounds ? `; ${p.pseudo_labels.rounds} pseudo-label round(s): every model trains ${p.pseudo_labels.rounds + 1} times` : ''),
  ];
  const toCompute = p.features.filter((f) => plan.status[f.id] === 'compute').length;
  lines.push(`${toCompute} of ${p.features.length} feature blocks to compute; nothing was computed (dry run)`);
  return lines.join('\n');
}
