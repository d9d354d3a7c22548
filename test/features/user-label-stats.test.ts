import { describe, expect, it } from 'vitest';
import { quantileSorted } from '../../core/eval/quantile.ts';
import { createMatrix, type Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { asStrings } from '../../features/column-values.ts';
import type { FeatureContext, FittedFeature } from '../../features/feature.ts';
import { userLabelStats } from '../../features/user-label-stats.ts';
import { at, fakeContext, fakeTable } from './fake-context.ts';

// Users a (rows 0-3) and b (rows 4-5); row 6 is a test-like row of user a, after everything.
const uid = ['a', 'a', 'a', 'a', 'b', 'b', 'a'];
const postdate = Float64Array.from([10, 20, 30, 40, 15, 25, 99]);
const y = Float64Array.from([1, 2, 3, 10, 5, 7, NaN]);
const table = fakeTable({ n: 7, nTrain: 6, uid, columns: { postdate: { type: 'number', values: postdate } } });
const trainRows = Int32Array.from([0, 1, 2, 3, 4, 5]);

describe('user-label-stats', () => {
  it('history: past sees only earlier posts of the same user, never its own label', () => {
    const params = userLabelStats.params.parse({ history: 'past', stats: ['mean', 'count', 'last', 'max'], prior: 0 });
    const fitted = userLabelStats.fit(fakeContext(table), params, trainRows, y);
    expect(at(fitted.train, 0, 'uid_label_count')).toBe(0);
    expect(at(fitted.train, 2, 'uid_label_mean')).toBeCloseTo(1.5, 12); // rows 0 and 1
    expect(at(fitted.train, 2, 'uid_label_last')).toBe(2);
    expect(at(fitted.train, 3, 'uid_label_max')).toBe(3); // its own 10 is not in its past
    expect(at(fitted.train, 5, 'uid_label_mean')).toBe(5);
    const test = fitted.apply(Int32Array.from([6]));
    expect(at(test, 0, 'uid_label_count')).toBe(4);
    expect(at(test, 0, 'uid_label_last')).toBe(10);
  });

  it('history: all gives training rows inner-fold values without their own label', () => {
    const params = userLabelStats.params.parse({ stats: ['mean', 'count'], prior: 0, inner_folds: 2 });
    const fitted = userLabelStats.fit(fakeContext(table), params, trainRows, y);
    for (let i = 0; i < 4; i++) expect(at(fitted.train, i, 'uid_label_count')).toBeLessThan(4);
    // Labels 10^i, one user: a subset's mean names the subset. Each training row's mean is the mean
    // of a non-empty set of the user's OTHER rows, and "j is seen by i" is symmetric, as inner
    // folds (i sees exactly the rows outside its own inner fold) make it.
    const n = 8;
    const powers = Float64Array.from({ length: n }, (_, i) => 10 ** i);
    const one = fakeTable({ n: n + 1, nTrain: n, uid: new Array(n + 1).fill('u'), columns: { postdate: { type: 'number', values: Float64Array.from({ length: n + 1 }, (_, i) => i) } } });
    const f8 = userLabelStats.fit(fakeContext(one), userLabelStats.params.parse({ stats: ['mean'], prior: 0, inner_folds: 3 }), Int32Array.from({ length: n }, (_, i) => i), Float64Array.from([...powers, NaN]));
    const seen = Array.from({ length: n }, (_, i) => {
      const mean = at(f8.train, i, 'uid_label_mean');
      const sets: number[][] = [];
      for (let mask = 1; mask < 1 << n; mask++) {
        const rows = Array.from({ length: n }, (_, j) => j).filter((j) => mask & (1 << j));
        const m = rows.reduce((s, j) => s + powers[j], 0) / rows.length;
        if (Math.abs(m - mean) <= 1e-6 * m) sets.push(rows); // float32 values
      }
      expect(sets, `row ${i}: mean ${mean}`).toHaveLength(1);
      expect(sets[0]).not.toContain(i);
      return new Set(sets[0]);
    });
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(seen[i].has(j)).toBe(seen[j].has(i));
    const test = fitted.apply(Int32Array.from([6]));
    expect(at(test, 0, 'uid_label_mean')).toBeCloseTo(4, 12); // (1 + 2 + 3 + 10) / 4
    expect(at(test, 0, 'uid_label_count')).toBe(4);
  });
});


// ---------------------------------------------------------------------------------------------
// Property: the grouped implementation gives the reference's float32 values on random data.

/**
 * Random data: power-law group sizes plus one heavy user, null and empty-string keys, dates with
 * many ties (and, with `nanDates`, missing ones), tied and offset labels (std cancellation).
 */
function randomData(rng: Random, nanDates: boolean) {
  const n = 150 + rng.int(350);
  const nTrain = Math.floor(n * (0.5 + 0.4 * rng.next()));
  const users = 3 + rng.int(80);
  const days = 1 + rng.int(60);
  const offset = rng.next() < 0.3 ? 1e4 : 0;
  const uid: (string | null)[] = [];
  const postdate = new Float64Array(n);
  const category = new Float64Array(n);
  const tag: (string | null)[] = [];
  const y = new Float64Array(n).fill(NaN);
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    uid.push(u < 0.2 ? 'heavy' : u < 0.25 ? null : u < 0.27 ? '' : `u${Math.floor(users * rng.next() ** 3)}`);
    postdate[i] = nanDates && rng.next() < 0.08 ? NaN : rng.int(days) + (i >= nTrain ? rng.int(days) : 0);
    category[i] = rng.next() < 0.1 ? NaN : rng.int(5);
    const v = rng.next();
    tag.push(v < 0.1 ? null : v < 0.15 ? '' : `t${rng.int(4)}`);
    if (i < nTrain) y[i] = offset + (rng.next() < 0.5 ? rng.int(8) / 2 : 5 + 3 * rng.normal());
  }
  const table = fakeTable({
    n,
    nTrain,
    uid: uid as string[],
    columns: { postdate: { type: 'number', values: postdate }, category: { type: 'number', values: category }, tag: { type: 'string', values: tag } },
  });
  const train = Array.from({ length: nTrain }, (_, i) => i).filter(() => rng.next() < 0.5 + 0.45 * rng.next());
  if (rng.next() < 0.3) rng.shuffle(train);
  const apply = Array.from({ length: rng.int(n) }, () => rng.int(n));
  return { table, y, trainRows: Int32Array.from(train), applyRows: Int32Array.from(apply) };
}

/**
 * Element-wise equality of two blocks (NaN equals NaN, -0 differs from 0), except columns in
 * `loose`, which may differ by float32 rounding: at most one float32 step (2^-23 relative).
 */
function expectSame(got: Matrix, want: Matrix, loose: ReadonlySet<number>, what: string): void {
  expect(got.names).toEqual(want.names);
  expect(got.rows).toBe(want.rows);
  for (let i = 0; i < want.data.length; i++) {
    const a = got.data[i];
    const b = want.data[i];
    if (Object.is(a, b)) continue;
    const c = i % want.cols;
    const where = `${what}: row ${Math.floor(i / want.cols)} ${want.names[c]}: got ${a}, want ${b}`;
    if (!loose.has(c)) expect.fail(where);
    expect(Math.abs(a - b), where).toBeLessThanOrEqual(2 ** -23 * Math.abs(b));
  }
}

describe('user-label-stats equals its per-row reference', () => {
  it('on random data, every stat, both histories, several priors and inner folds', () => {
    const rng = new Random(2026);
    for (let trial = 0; trial < 80; trial++) {
      const { table, y, trainRows, applyRows } = randomData(rng, false);
      const stats = rng.next() < 0.2 ? [rng.pick(STATS)] : rng.shuffle([...STATS]);
      const params = userLabelStats.params.parse({
        group: rng.pick(['uid', 'uid', 'category', 'tag']),
        history: trial % 2 ? 'past' : 'all',
        prior: rng.pick([0, 1, 2.5, 3]),
        inner_folds: rng.pick([2, 3, 5, 7]),
        stats,
      });
      const what = `trial ${trial} ${JSON.stringify(params)}`;
      const got = userLabelStats.fit(fakeContext(table, {}, trial), params, trainRows, y);
      const want = referenceFit(fakeContext(table, {}, trial), params, trainRows, y);
      // Exact everywhere (same additions in the same order) but the running std of `past`
      // (Welford instead of a second pass over each prefix): float32 rounding.
      const loose = new Set(params.history === 'past' ? [stats.indexOf('std')] : []);
      expectSame(got.train, want.train, loose, `${what} train`);
      expectSame(got.apply(applyRows), want.apply(applyRows), loose, `${what} apply`);
      expectSame(got.apply(trainRows), want.apply(trainRows), loose, `${what} apply again`);
    }
  });

  it('history: past with missing dates: the same label sets (their order is the sort engine\'s)', () => {
    const rng = new Random(99);
    const stats = ['count', 'min', 'max', 'median', 'mean', 'std'] as const;
    for (let trial = 0; trial < 20; trial++) {
      const { table, y, trainRows, applyRows } = randomData(rng, true);
      const params = userLabelStats.params.parse({ history: 'past', prior: rng.pick([0, 3]), stats: [...stats] });
      const got = userLabelStats.fit(fakeContext(table), params, trainRows, y);
      const want = referenceFit(fakeContext(table), params, trainRows, y);
      const loose = new Set([4, 5]); // sums in another order
      expectSame(got.train, want.train, loose, `trial ${trial} train`);
      expectSame(got.apply(applyRows), want.apply(applyRows), loose, `trial ${trial} apply`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Reference: the per-row implementation this kind had before it computed by grouping (quadratic
// in a heavy user's post count), kept as the definition the grouped one must reproduce.

const STATS = ['mean', 'median', 'std', 'count', 'min', 'max', 'last'] as const;
type Stat = (typeof STATS)[number];
type Params = ReturnType<typeof userLabelStats.params.parse>;

function summarize(values: number[], stats: readonly Stat[], prior: number, globalMean: number, out: Float32Array, offset: number): void {
  const n = values.length;
  const sorted = [...values].sort((a, b) => a - b);
  const sum = values.reduce((s, v) => s + v, 0);
  const mean = n ? sum / n : NaN;
  stats.forEach((s, k) => {
    let v: number;
    switch (s) {
      case 'mean':
        v = (sum + prior * globalMean) / (n + prior || 1);
        break;
      case 'median':
        v = quantileSorted(sorted, 0.5);
        break;
      case 'std':
        v = n > 1 ? Math.sqrt(values.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : NaN;
        break;
      case 'count':
        v = n;
        break;
      case 'min':
        v = n ? sorted[0] : NaN;
        break;
      case 'max':
        v = n ? sorted[n - 1] : NaN;
        break;
      case 'last':
        v = n ? values[n - 1] : NaN; // values come in time order in `past` mode
        break;
    }
    out[offset + k] = v;
  });
}

function groupLabels(keys: readonly (string | null)[], rows: ArrayLike<number>, y: Float64Array): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (let i = 0; i < rows.length; i++) {
    const key = keys[rows[i]];
    if (key === null) continue;
    let list = m.get(key);
    if (!list) m.set(key, (list = []));
    list.push(y[rows[i]]);
  }
  return m;
}

function referenceFit({ table, rng }: FeatureContext, params: Params, trainRows: Int32Array, y: Float64Array): FittedFeature {
  const keys = params.group === 'uid' ? (table.uid as string[]) : asStrings(table, params.group);
  const names = params.stats.map((s) => `${params.group}_label_${s}`);
  const d = names.length;
  let globalMean = 0;
  for (const r of trainRows) globalMean += y[r];
  globalMean /= trainRows.length || 1;

  const block = (rows: ArrayLike<number>, groups: Map<string, number[]>): Matrix => {
    const m = createMatrix(rows.length, d, names);
    for (let i = 0; i < rows.length; i++) summarize(groups.get(keys[rows[i]] ?? '') ?? [], params.stats, params.prior, globalMean, m.data, i * d);
    return m;
  };

  if (params.history === 'past') {
    const date = table.columns.postdate;
    if (date?.type !== 'number') throw new Error('user-label-stats: history: past needs post dates (postdate column)');
    const t = date.values;
    const byUser = new Map<string, number[]>();
    for (const r of trainRows) {
      const k = keys[r];
      if (k === null) continue;
      let list = byUser.get(k);
      if (!list) byUser.set(k, (list = []));
      list.push(r);
    }
    for (const list of byUser.values()) list.sort((a, b) => t[a] - t[b] || a - b);
    const past = (rows: ArrayLike<number>): Matrix => {
      const m = createMatrix(rows.length, d, names);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i];
        const list = keys[r] === null ? undefined : byUser.get(keys[r]!);
        const before = list ? list.filter((q) => t[q] < t[r]).map((q) => y[q]) : [];
        summarize(before, params.stats, params.prior, globalMean, m.data, i * d);
      }
      return m;
    };
    return { train: past(trainRows), apply: past };
  }

  const order = rng.fork('inner').shuffle(Array.from(trainRows));
  const inner = new Int32Array(table.n).fill(-1);
  order.forEach((r, i) => (inner[r] = i % params.inner_folds));
  const train = createMatrix(trainRows.length, d, names);
  const position = new Map<number, number>();
  trainRows.forEach((r, i) => position.set(r, i));
  for (let f = 0; f < params.inner_folds; f++) {
    const fitRows = order.filter((r) => inner[r] !== f);
    const groups = groupLabels(keys, fitRows, y);
    const these = order.filter((r) => inner[r] === f);
    const part = block(these, groups);
    these.forEach((r, i) => train.data.set(part.data.subarray(i * d, (i + 1) * d), position.get(r)! * d));
  }
  const all = groupLabels(keys, trainRows, y);
  return { train, apply: (rows) => block(rows, all) };
}
