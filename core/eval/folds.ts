/**
 * @file Folds are data: `fold[row]` for every train row, built once per run. -1 marks a train
 * row never validated (the time and holdout schemes validate one share of the rows).
 * `strata` (binary labels) makes kfold and holdout stratified: each fold gets each class in
 * the proportion of the whole, so a rare class is not missing from a fold. `innerSplit` cuts a
 * fold's training rows the way the outer scheme cuts the train rows, for early stopping that
 * never looks at the fold's validation rows (validation.early_stopping: inner).
 *
 * @example
 *   const folds = makeFolds({ scheme: 'group-kfold', folds: 5, groups: uids }, rng);
 *   const { train, valid } = foldRows(folds, 0);
 */
import type { Random } from '../random.ts';

export interface FoldSpec {
  scheme: 'kfold' | 'group-kfold' | 'time' | 'holdout';
  folds: number;
  shuffle?: boolean;
  /** group-kfold: group of each train row. */
  groups?: readonly (string | null)[];
  /** time: post time of each train row (NaN sorts first). */
  times?: ArrayLike<number>;
  validFraction?: number;
  /** kfold / holdout: class of each train row (binary labels); folds keep the class shares. */
  strata?: ArrayLike<number>;
}

/** Rows in (shuffled) order, grouped by stratum when strata are given (strata in ascending order). */
function orderRows(n: number, shuffle: boolean, strata: ArrayLike<number> | undefined, rng: Random): number[][] {
  const order = Array.from({ length: n }, (_, i) => i);
  if (shuffle) rng.shuffle(order);
  if (!strata) return [order];
  const by = new Map<number, number[]>();
  for (const r of order) {
    const s = strata[r];
    let list = by.get(s);
    if (!list) by.set(s, (list = []));
    list.push(r);
  }
  return [...by.keys()].sort((a, b) => a - b).map((k) => by.get(k)!);
}

/** Indices 0..n-1 by group, groups in first-seen order; a row without a group is a group of its own. */
function groupMembers(n: number, groupOf: (i: number) => string | null): number[][] {
  const members = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const key = groupOf(i) ?? `\u0000row${i}`;
    let list = members.get(key);
    if (!list) members.set(key, (list = []));
    list.push(i);
  }
  return [...members.values()];
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
  if (spec.scheme === 'holdout') {
    // A random valid_fraction of the rows (of each class when stratified), as a 70/30 split.
    const frac = spec.validFraction ?? 0.2;
    fold.fill(-1);
    for (const rows of orderRows(n, spec.shuffle !== false, spec.strata, rng)) {
      const take = Math.round(rows.length * frac);
      for (let i = 0; i < take; i++) fold[rows[i]] = 0;
    }
    return { k: 1, fold };
  }
  const k = spec.folds;
  if (k < 2) throw new Error(`${spec.scheme} needs at least 2 folds`);
  if (spec.scheme === 'kfold') {
    // Dealt round-robin, class after class, continuing the count: fold sizes differ by at most
    // one and each class's rows spread evenly.
    let i = 0;
    for (const rows of orderRows(n, spec.shuffle !== false, spec.strata, rng)) for (const r of rows) fold[r] = i++ % k;
    return { k, fold };
  }
  // group-kfold: largest groups first into the currently smallest fold (as scikit-learn's
  // GroupKFold), with a seeded shuffle to break ties between equal-size groups.
  const groups = spec.groups;
  if (!groups) throw new Error('group-kfold needs a group per row');
  const members = groupMembers(n, (i) => groups[i]);
  if (members.length < k) throw new Error(`group-kfold: ${members.length} groups cannot fill ${k} folds`);
  const list = rng.shuffle(members).sort((a, b) => b.length - a.length);
  const sizes = new Array<number>(k).fill(0);
  for (const rows of list) {
    let best = 0;
    for (let f = 1; f < k; f++) if (sizes[f] < sizes[best]) best = f;
    for (const r of rows) fold[r] = best;
    sizes[best] += rows.length;
  }
  return { k, fold };
}

/** Train rows that some fold validates (all of them, except under the time and holdout schemes). */
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

/**
 * A fold's training rows split into rows to fit and rows to stop on, cut the way the outer
 * scheme cuts: time, the newest `fraction` by post time; group-kfold, whole groups (seeded
 * order) until `fraction` of the rows; kfold and holdout, a seeded random `fraction` (of each
 * class when strata are given). spec.groups / times / strata are indexed by train row.
 */
export function innerSplit(rows: Int32Array, spec: FoldSpec, fraction: number, rng: Random): { fit: Int32Array; stop: Int32Array } {
  const n = rows.length;
  const target = Math.round(n * fraction);
  if (n < 2 || target < 1 || target >= n) throw new Error(`inner early-stopping split: ${n} training rows cannot give ${(fraction * 100).toFixed(0)}% to stop on`);
  const stop = new Uint8Array(n);
  if (spec.scheme === 'time') {
    const times = spec.times;
    if (!times) throw new Error('time folds need post times');
    const t = (i: number) => (Number.isNaN(times[rows[i]]) ? -Infinity : times[rows[i]]);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => t(a) - t(b) || a - b);
    for (let i = n - target; i < n; i++) stop[order[i]] = 1;
  } else if (spec.scheme === 'group-kfold') {
    const groups = spec.groups;
    if (!groups) throw new Error('group-kfold needs a group per row');
    let taken = 0;
    for (const list of rng.shuffle(groupMembers(n, (i) => groups[rows[i]]))) {
      if (taken >= target) break;
      if (taken + list.length >= n) continue; // never every row
      for (const i of list) stop[i] = 1;
      taken += list.length;
    }
  } else {
    const strata = spec.strata;
    for (const part of orderRows(n, true, strata ? Array.from(rows, (r) => strata[r]) : undefined, rng)) {
      const take = Math.round(part.length * fraction);
      for (let i = 0; i < take; i++) stop[part[i]] = 1;
    }
  }
  const fit: number[] = [];
  const stopRows: number[] = [];
  for (let i = 0; i < n; i++) (stop[i] ? stopRows : fit).push(rows[i]);
  if (!stopRows.length || !fit.length) throw new Error(`inner early-stopping split: ${n} training rows gave ${stopRows.length} to stop on`);
  return { fit: Int32Array.from(fit), stop: Int32Array.from(stopRows) };
}
