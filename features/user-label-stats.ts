/**
 * @file `user-label-stats`: the popularity a user's other posts reached (mean, median, std,
 * count, min, max, last), the strongest single signal in SMP data. Label-aware: the runner fits
 * it on each fold's training rows only. Means are shrunk toward the global mean by `prior`
 * pseudo-posts.
 *
 * `history: all` (default): training rows get values from an inner k-fold over the training
 * rows (a row never sees its own label, but does see the user's later posts); validation and
 * test rows get values from all training rows. `history: past`: only the user's training posts
 * dated strictly before the row's post, for every row (what a test post, later than all train
 * posts, has); no inner folds, since a row's own label is never in its past. The trade-off: with
 * `all` a k-fold validation row reads the user's later labels (a leak in time), and training
 * rows read about (k-1)/k of the user's posts; with `past` training rows read fewer labels
 * (a user's early posts read almost none) than test rows get. On time-ordered checks (train on
 * the earliest 80% by date, score the latest 20%; bench/user-history.ts) `all` predicted the
 * real SMP-Video slightly better and `past` won on a synthetic SMPD whose users drift (README,
 * "user-label-stats: history"), so `all` stays the default.
 *
 * Same meaning for every row (training, validation, test), whatever the history:
 *   - `last`: the label of the user's previous training post in time (strictly earlier date);
 *   - `count`: with `all`, the number of the user's training posts other than the row itself
 *     (all of them, not only the other inner folds); with `past`, the number dated before it.
 *
 * Computed by grouping, never per row over a user's history: keys become integer codes once,
 * each block's per-group rows (per inner fold, or per prefix of a user's time-ordered list) are
 * computed once at fit time, and a row's values are a lookup (plus a binary search on time for
 * `past` and `last`): O(m log m) for a user with m posts.
 *
 * @example
 *   - id: userstats
 *     kind: user-label-stats
 *     params: { stats: [mean, median, count, last], prior: 3 }
 */
import { z } from 'zod';
import { createMatrix, type Matrix } from '../core/matrix.ts';
import type { Table } from '../core/data/table.ts';
import { UserError } from '../core/errors.ts';
import { defineFeature, type FittedFeature } from './feature.ts';
import { asStrings, hasColumn } from './column-values.ts';

const STATS = ['mean', 'median', 'std', 'count', 'min', 'max', 'last'] as const;
type Stat = (typeof STATS)[number];

/** The statistics of one set of labels, from which a row of the block is written. */
interface Summary {
  n: number;
  /** Sum of the labels, added in the set's iteration order starting from 0. */
  sum: number;
  /** Sum of squared deviations from the mean (used only for std). */
  ss: number;
  /** sorted[floor((n - 1) / 2)] and sorted[min(floor((n - 1) / 2) + 1, n - 1)] (median only). */
  lowMid: number;
  highMid: number;
  /** The first of equal minima and the last of equal maxima, where a stable sort puts them. */
  min: number;
  max: number;
  /** The last label in the iteration order. */
  last: number;
}

const EMPTY: Readonly<Summary> = { n: 0, sum: 0, ss: 0, lowMid: NaN, highMid: NaN, min: NaN, max: NaN, last: NaN };

/** The block's columns and how a Summary becomes one row of them. */
class Block {
  readonly d: number;
  readonly wantStd: boolean;
  readonly wantMedian: boolean;
  /** The row of an empty set of labels. */
  readonly empty: Float32Array;

  constructor(
    readonly names: string[],
    readonly stats: readonly Stat[],
    readonly prior: number,
    readonly globalMean: number,
  ) {
    this.d = names.length;
    this.wantStd = stats.includes('std');
    this.wantMedian = stats.includes('median');
    this.empty = new Float32Array(this.d);
    this.write(EMPTY, this.empty, 0);
  }

  /** Writes the row of `s` at out[offset .. offset + d). */
  write(s: Readonly<Summary>, out: Float32Array, offset: number): void {
    const { n } = s;
    for (let k = 0; k < this.stats.length; k++) {
      let v: number;
      switch (this.stats[k]) {
        case 'mean':
          v = (s.sum + this.prior * this.globalMean) / (n + this.prior || 1);
          break;
        case 'median': {
          const x = 0.5 * (n - 1); // quantileSorted(sorted, 0.5) from its two middle values
          v = n ? s.lowMid + (s.highMid - s.lowMid) * (x - Math.floor(x)) : NaN;
          break;
        }
        case 'std':
          v = n > 1 ? Math.sqrt(s.ss / (n - 1)) : NaN;
          break;
        case 'count':
          v = n;
          break;
        case 'min':
          v = n ? s.min : NaN;
          break;
        case 'max':
          v = n ? s.max : NaN;
          break;
        case 'last':
          v = n ? s.last : NaN;
          break;
      }
      out[offset + k] = v;
    }
  }

  /** Adds label v to a running summary (all but ss, lowMid and highMid). */
  static add(s: Summary, v: number): void {
    if (s.n++ === 0) s.min = s.max = v;
    else {
      if (v < s.min) s.min = v;
      if (v >= s.max) s.max = v;
    }
    s.sum += v;
    s.last = v;
  }

  /** A matrix whose row i is row rowOf(i) of `table` (a row of length d), or the empty row for -1. */
  gather(count: number, table: Float32Array, rowOf: (i: number) => number): Matrix {
    const { d } = this;
    const m = createMatrix(count, d, this.names);
    for (let i = 0; i < count; i++) {
      const row = rowOf(i);
      m.data.set(row < 0 ? this.empty : table.subarray(row * d, (row + 1) * d), i * d);
    }
    return m;
  }
}

/** Group codes of all table rows, with the training rows and their labels. */
interface Grouping {
  codes: Int32Array;
  index: Map<string, number>;
  groups: number;
  trainRows: Int32Array;
  y: Float64Array;
}

/** Codes of a key column (the table's uid array, a string column), reused by every fold's fit. */
const codeCache = new WeakMap<readonly (string | null)[], { codes: Int32Array; index: Map<string, number> }>();

/** Integer codes 0..groups-1 for the keys of all table rows; -1 for null. */
export function groupCodes(keys: readonly (string | null)[]): { codes: Int32Array; index: Map<string, number> } {
  const cached = codeCache.get(keys);
  if (cached) return cached;
  const index = new Map<string, number>();
  const codes = new Int32Array(keys.length);
  for (let r = 0; r < keys.length; r++) {
    const k = keys[r];
    if (k === null || k === undefined) {
      codes[r] = -1;
      continue;
    }
    let c = index.get(k);
    if (c === undefined) index.set(k, (c = index.size));
    codes[r] = c;
  }
  codeCache.set(keys, { codes, index });
  return { codes, index };
}

/**
 * Counting sort of `rows` by group (rows with code -1 dropped), keeping their order within a
 * group: the rows of group g are sorted[start[g] .. start[g + 1]).
 */
function bucketByGroup(rows: ArrayLike<number>, codes: Int32Array, groups: number): { sorted: Int32Array; start: Int32Array } {
  const start = new Int32Array(groups + 1);
  for (let i = 0; i < rows.length; i++) if (codes[rows[i]] >= 0) start[codes[rows[i]] + 1]++;
  for (let g = 0; g < groups; g++) start[g + 1] += start[g];
  const fill = start.slice(0, groups);
  const sorted = new Int32Array(start[groups]);
  for (let i = 0; i < rows.length; i++) {
    const c = codes[rows[i]];
    if (c >= 0) sorted[fill[c]++] = rows[i];
  }
  return { sorted, start };
}

/** The labels of some training rows laid out by group (group g at start[g] .. start[g + 1]). */
interface Layout {
  start: Int32Array;
  label: Float64Array;
  /** Inner fold of each label. */
  fold: Int32Array;
}

/** Lays out the labels of `rows` by group, in the order of `rows` within a group or ascending. */
function layout(rows: ArrayLike<number>, codes: Int32Array, groups: number, y: Float64Array, inner: Int32Array, ascending = false): Layout {
  const { sorted, start } = bucketByGroup(rows, codes, groups);
  if (ascending) for (let g = 0; g < groups; g++) sorted.subarray(start[g], start[g + 1]).sort((a, b) => y[a] - y[b]);
  return { start, label: Float64Array.from(sorted, (r) => y[r]), fold: Int32Array.from(sorted, (r) => inner[r]) };
}

/**
 * history: all. A group's statistics are those of its training labels in an iteration order
 * (trainRows for apply; the shuffled `order` without one inner fold for that fold's rows), summed
 * in that order, so the labels are laid out by group in each order once and every block is one
 * sequential pass per inner fold. A null key reads the group of the empty string (the old per-row
 * code looked up `key ?? ''`).
 */
function fitAll({ codes, index, groups, trainRows, y }: Grouping, block: Block, order: readonly number[], inner: Int32Array, folds: number, time: TimeIndex | null): FittedFeature {
  const { d } = block;
  const nullCode = index.get('') ?? -1;
  const codeOf = (r: number): number => (codes[r] >= 0 ? codes[r] : nullCode);
  const byOrder = layout(order, codes, groups, y, inner);
  const byTrain = layout(trainRows, codes, groups, y, inner);
  const byLabel = layout(block.wantMedian ? trainRows : [], codes, groups, y, inner, true); // for medians
  const s: Summary = { ...EMPTY };
  /** Row g: the summary of group g's labels in `lay` outside inner fold `skip`. */
  const groupTable = ({ start, label, fold }: Layout, skip: number): Float32Array => {
    const out = new Float32Array(groups * d);
    for (let g = 0; g < groups; g++) {
      Object.assign(s, EMPTY);
      const end = start[g + 1];
      for (let j = start[g]; j < end; j++) if (fold[j] !== skip) Block.add(s, label[j]);
      if (block.wantStd && s.n > 1) {
        const mean = s.sum / s.n; // the same two passes, in the same order, as a per-row sum
        for (let j = start[g]; j < end; j++) if (fold[j] !== skip) s.ss += (label[j] - mean) ** 2;
      }
      if (block.wantMedian && s.n > 0) {
        const lo = Math.floor((s.n - 1) / 2);
        const hi = Math.min(lo + 1, s.n - 1);
        for (let j = byLabel.start[g], seen = 0; seen <= hi; j++) {
          if (byLabel.fold[j] === skip) continue;
          if (seen === lo) s.lowMid = byLabel.label[j];
          if (seen === hi) s.highMid = byLabel.label[j];
          seen++;
        }
      }
      block.write(s, out, g * d);
    }
    return out;
  };

  const train = createMatrix(trainRows.length, d, block.names);
  for (let f = 0; f < folds; f++) {
    const part = groupTable(byOrder, f);
    for (let i = 0; i < trainRows.length; i++) {
      const r = trainRows[i];
      if (inner[r] !== f) continue;
      const g = codeOf(r);
      train.data.set(g < 0 ? block.empty : part.subarray(g * d, (g + 1) * d), i * d);
    }
  }
  const all = groupTable(byTrain, -2);
  const total = (g: number): number => (g < 0 ? 0 : byTrain.start[g + 1] - byTrain.start[g]);
  // count: the user's other training posts, all of them (not only the other inner folds), so a
  // training row and a test row of a user with the same history read the same count.
  const countCol = block.stats.indexOf('count');
  if (countCol >= 0) for (let i = 0; i < trainRows.length; i++) train.data[i * d + countCol] = total(codeOf(trainRows[i])) - (codes[trainRows[i]] >= 0 ? 1 : 0);
  // last: the previous post in time, for every row (the inner folds' iteration order is no time).
  const lastCol = block.stats.indexOf('last');
  if (time && lastCol >= 0) time.writeLast(train, trainRows, lastCol, y);
  return {
    train,
    apply(rows) {
      const m = block.gather(rows.length, all, (i) => codeOf(rows[i]));
      if (time && lastCol >= 0) time.writeLast(m, rows, lastCol, y);
      return m;
    },
  };
}

/**
 * Each group's training posts in time order (ties by row), for `history: past` and the `last`
 * stat: the posts strictly before a row's date are a prefix of its group's list, found by
 * binary search (O(log m) per row; O(m log m) to build for a group of m posts).
 */
class TimeIndex {
  /** Dated training rows sorted by (group, date, row); group g's at start[g] .. start[g + 1]. */
  readonly list: Int32Array;
  readonly start: Int32Array;
  /** The length of the longest group's list. */
  readonly longest: number;
  /** Group code of every table row (-1: none). */
  readonly codes: Int32Array;
  private readonly time: Float64Array;

  constructor({ codes, groups, trainRows }: Grouping, private readonly t: Float64Array) {
    const dated = Array.from(trainRows).filter((r) => !Number.isNaN(t[r])); // never strictly before anything
    const { sorted, start } = bucketByGroup(dated, codes, groups);
    let longest = 0;
    for (let g = 0; g < groups; g++) {
      sorted.subarray(start[g], start[g + 1]).sort((a, b) => t[a] - t[b] || a - b);
      longest = Math.max(longest, start[g + 1] - start[g]);
    }
    this.list = sorted;
    this.start = start;
    this.longest = longest;
    this.time = Float64Array.from(sorted, (r) => t[r]);
    this.codes = codes;
  }

  /** How many of row r's group's posts are dated strictly before r; -1 when r has no group. */
  before(r: number): number {
    const g = this.codes[r];
    if (g < 0) return -1;
    let lo = this.start[g];
    let hi = this.start[g + 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.time[mid] < this.t[r]) lo = mid + 1;
      else hi = mid;
    }
    return lo - this.start[g];
  }

  /** Writes column `col` of m (row i is table row rows[i]): the label of the group's previous post in time, NaN when none. */
  writeLast(m: Matrix, rows: ArrayLike<number>, col: number, y: Float64Array): void {
    for (let i = 0; i < rows.length; i++) {
      const j = this.before(rows[i]);
      m.data[i * m.cols + col] = j > 0 ? y[this.list[this.start[this.codes[rows[i]]] + j - 1]] : NaN;
    }
  }
}

/**
 * history: past. A row sees the labels of its group's training posts with a strictly earlier
 * date: a prefix of the group's time-ordered list. Every prefix's row is computed once,
 * running: the sum in list order, Welford's variance, two heaps for the median (O(m log m) for
 * a group with m posts).
 */
function fitPast({ groups, trainRows, y }: Grouping, block: Block, index: TimeIndex): FittedFeature {
  const { d } = block;
  const { list, start, codes } = index;
  // The prefix of length j of group g's list has row start[g] + g + j.
  const prefix = new Float32Array((list.length + groups) * d);
  const low = new MinHeap(new Float64Array(index.longest)); // the lower half, negated
  const high = new MinHeap(new Float64Array(index.longest));
  const s: Summary = { ...EMPTY };
  for (let g = 0; g < groups; g++) {
    Object.assign(s, EMPTY);
    low.size = high.size = 0;
    let mean = 0;
    const base = start[g] + g;
    block.write(s, prefix, base * d);
    for (let j = start[g]; j < start[g + 1]; j++) {
      const v = y[list[j]];
      Block.add(s, v);
      if (block.wantStd) {
        const delta = v - mean;
        mean += delta / s.n;
        s.ss += delta * (v - mean);
      }
      if (block.wantMedian) {
        if (low.size === 0 || v <= -low.top()) low.push(-v);
        else high.push(v);
        if (low.size > high.size + 1) high.push(-low.pop());
        else if (high.size > low.size) low.push(-high.pop());
        s.lowMid = -low.top();
        s.highMid = s.n > 1 ? high.top() : s.lowMid;
      }
      block.write(s, prefix, (base + j + 1 - start[g]) * d);
    }
  }
  const past = (rows: Int32Array): Matrix =>
    block.gather(rows.length, prefix, (i) => {
      const j = index.before(rows[i]);
      return j < 0 ? -1 : start[codes[rows[i]]] + codes[rows[i]] + j;
    });
  return { train: past(trainRows), apply: past };
}

/** A binary min-heap of numbers (a max-heap when fed negated values). */
class MinHeap {
  size = 0;
  constructor(private readonly items: Float64Array) {}
  top(): number {
    return this.items[0];
  }
  push(v: number): void {
    const a = this.items;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= v) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.items;
    const out = a[0];
    const v = a[--this.size];
    const n = this.size;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && a[c + 1] < a[c]) c++;
      if (a[c] >= v) break;
      a[i] = a[c];
      i = c;
    }
    a[i] = v;
    return out;
  }
}

const Params = z
  .object({
    group: z.string().default('uid').describe('column to group by (uid, or e.g. category)'),
    stats: z.array(z.enum(STATS)).default(['mean', 'median', 'std', 'count']).describe(`any of ${STATS.join(', ')}`),
    prior: z.number().min(0).default(3).describe('pseudo-posts at the global mean added to each mean (shrinkage)'),
    inner_folds: z.number().int().min(2).default(5).describe('inner folds giving training rows their values (history: all)'),
    history: z
      .enum(['all', 'past'])
      .default('all')
      .describe(
        "all: every training post of the user, later ones included (training rows: from inner folds); past: only the user's training posts dated before this post, as a test post has. " +
          'Time-ordered checks (bench/user-history.ts; README): all predicted SMP-Video slightly better, past wins when users drift over time (long periods, fast-changing accounts)',
      ),
  })
  .strict();
type Params = z.output<typeof Params>;

/** What fit needs from the dataset, checked before any feature work. */
function check(table: Table, params: Params): void {
  if (params.group !== 'uid' && !hasColumn(table, params.group))
    throw new UserError(`user-label-stats: group: the dataset has no column "${params.group}"; columns: uid, ${Object.keys(table.columns).sort().join(', ')}`);
  const needsDates = params.history === 'past' ? 'history: past' : params.stats.includes('last') ? 'stats: last' : null;
  if (needsDates && table.columns.postdate?.type !== 'number') throw new UserError(`user-label-stats: ${needsDates} needs post dates (a postdate column)`);
}

export const userLabelStats = defineFeature({
  kind: 'user-label-stats',
  version: 3,
  random: true,
  labelAware: true,
  summary: "out-of-fold statistics of a user's (or any group's) popularity labels",
  params: Params,
  tableColumns: (params) => ['postdate', ...(params.group === 'uid' ? [] : [params.group])],
  check,
  fit({ table, rng }, params, trainRows, y) {
    check(table, params);
    const keys = params.group === 'uid' ? (table.uid as string[]) : asStrings(table, params.group);
    let globalMean = 0;
    for (const r of trainRows) globalMean += y[r];
    globalMean /= trainRows.length || 1;
    const { codes, index } = groupCodes(keys);
    const block = new Block(params.stats.map((s) => `${params.group}_label_${s}`), params.stats, params.prior, globalMean);
    const grouping = { codes, index, groups: index.size, trainRows, y };
    const date = table.columns.postdate;
    const time = date?.type === 'number' && (params.history === 'past' || params.stats.includes('last')) ? new TimeIndex(grouping, date.values) : null;
    if (params.history === 'past') return fitPast(grouping, block, time!);
    // Inner folds: training rows see only the labels of the other inner folds.
    const order = rng.fork('inner').shuffle(Array.from(trainRows));
    const inner = new Int32Array(table.n).fill(-1);
    order.forEach((r, i) => (inner[r] = i % params.inner_folds));
    return fitAll(grouping, block, order, inner, params.inner_folds, time);
  },
});
