/**
 * @file Test helpers for feature kinds: a minimal in-memory Table and a FeatureContext around
 * it (quiet run log, seeded Random), so a kind's `compute` can be called directly.
 */
import type { Column, Table } from '../../core/data/table.ts';
import type { Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { RunLog } from '../../core/report/run-log.ts';
import type { FeatureContext } from '../../features/feature.ts';

export function fakeTable(opts: { n: number; uid?: string[]; media?: (string | null)[]; columns?: Record<string, Column>; nTrain?: number }): Table {
  const { n } = opts;
  return {
    track: 'image',
    root: '/nowhere',
    n,
    nTrain: opts.nTrain ?? n,
    nTest: n - (opts.nTrain ?? n),
    pid: Array.from({ length: n }, (_, i) => `p${i}`),
    uid: opts.uid ?? Array.from({ length: n }, (_, i) => `u${i}`),
    label: new Float64Array(n),
    columns: opts.columns ?? {},
    media: opts.media ?? new Array<string | null>(n).fill(null),
    sources: [],
  };
}

export function fakeContext(table: Table, inputs: Record<string, Matrix> = {}, seed = 7): FeatureContext & { log: RunLog } {
  return { table, inputs, rng: new Random(seed), log: new RunLog({ quiet: true }), cacheDir: '/nowhere/cache', modelsDir: '/nowhere/models' };
}

/** Value at (row, named column). */
export function at(m: Matrix, row: number, name: string): number {
  const c = m.names.indexOf(name);
  if (c < 0) throw new Error(`no column ${name} in ${m.names.join(', ')}`);
  return m.data[row * m.cols + c];
}
