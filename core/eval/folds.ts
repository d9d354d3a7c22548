/**
 * @file Folds are data: `fold[row]` for every train row, built once per run. -1 marks a train
 * row never validated (the time scheme validates only the newest rows).
 *
 * @example
 *   const folds = makeFolds({ scheme: 'group-kfold', folds: 5, groups: uids }, rng);
 *   const { train, valid } = foldRows(folds, 0);
 */
import type { Random } from '../random.ts';

export interface FoldSpec {
  scheme: 'kfold' | 'group-kfold' | 'time';
  folds: number;
  shuffle?: boolean;
  /** group-kfold: group of each train row. */
  groups?: readonly (string | null)[];
  /** time: post time of each train row (NaN sorts first). */
  times?: ArrayLike<number>;
  validFraction?: number;
}

export interface Folds {
  readonly k: number;
  readonly fold: Int32Array;
}

export function makeFolds(n: number, spec: FoldSpec, rng: Random): Folds {
  const fold = new Int32Array(n);
  if (spec.scheme === 'time') {
    const times = spec.times;
    if (!times) throw new Error('time folds need post times');
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (Number.isNaN(times[a]) ? -Infinity : times[a]) - (Number.isNaN(times[b]) ? -Infinity : times[b]) || a - b);
    const cut = Math.round(n * (1 - (spec.validFraction ?? 0.2)));
    order.forEach((r, i) => (fold[r] = i >= cut ? 0 : -1));
    return { k: 1, fold };
  }
  const k = spec.folds;
  if (k < 2) throw new Error(`${spec.scheme} needs at least 2 folds`);
  if (spec.scheme === 'kfold') {
    const order = Array.from({ length: n }, (_, i) => i);
    if (spec.shuffle !== false) rng.shuffle(order);
    order.forEach((r, i) => (fold[r] = i % k));
    return { k, fold };
  }
  // group-kfold: largest groups first into the currently smallest fold (as scikit-learn's
  // GroupKFold), with a seeded shuffle to break ties between equal-size groups.
  const groups = spec.groups;
  if (!groups) throw new Error('group-kfold needs a group per row');
  const members = new Map<string, number[]>();
  groups.forEach((g, i) => {
    const key = g ?? `\u0000row${i}`;
    let list = members.get(key);
    if (!list) members.set(key, (list = []));
    list.push(i);
  });
  if (members.size < k) throw new Error(`group-kfold: ${members.size} groups cannot fill ${k} folds`);
  const list = rng.shuffle([...members.values()]).sort((a, b) => b.length - a.length);
  const sizes = new Array<number>(k).fill(0);
  for (const rows of list) {
    let best = 0;
    for (let f = 1; f < k; f++) if (sizes[f] < sizes[best]) best = f;
    for (const r of rows) fold[r] = best;
    sizes[best] += rows.length;
  }
  return { k, fold };
}

/** Train rows that some fold validates (all of them, except under the time scheme). */
export function validatedRows(folds: Folds): number[] {
  const out: number[] = [];
  folds.fold.forEach((f, r) => {
    if (f >= 0) out.push(r);
  });
  return out;
}

export function foldRows(folds: Folds, f: number): { train: Int32Array; valid: Int32Array } {
  const train: number[] = [];
  const valid: number[] = [];
  folds.fold.forEach((v, i) => (v === f ? valid : train).push(i));
  return { train: Int32Array.from(train), valid: Int32Array.from(valid) };
}
