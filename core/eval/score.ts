/**
 * @file Scores a prediction with the metrics of its task: SRC, MAE, MAPE, RMSE for regression;
 * AUC, accuracy, weighted precision / recall / F1 and SRC for binary tasks.
 */
import type { Task } from '../../models/model.ts';
import { METRICS, type MetricName } from './metrics.ts';

export type Scores = Partial<Record<MetricName, number>>;

export const TASK_METRICS: Readonly<Record<Task, readonly MetricName[]>> = Object.freeze({
  regression: ['src', 'mae', 'mape', 'rmse'],
  binary: ['auc', 'accuracy', 'precision', 'recall', 'f1', 'src'],
});

export function score(task: Task, y: ArrayLike<number>, p: ArrayLike<number>): Scores {
  const out: Scores = {};
  for (const m of TASK_METRICS[task]) out[m] = Number(METRICS[m].fn(y, p).toFixed(6));
  return out;
}

export function formatScores(s: Scores): string {
  return Object.entries(s)
    .map(([k, v]) => `${k.toUpperCase()} ${v!.toFixed(4)}`)
    .join('  ');
}

/** True when score a is better than b on metric m. */
export function better(m: MetricName, a: number, b: number): boolean {
  return METRICS[m].higherIsBetter ? a > b : a < b;
}
