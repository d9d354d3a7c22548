import { describe, expect, it } from 'vitest';
import { chooseRound, pseudoLabels } from '../../core/pipeline/pseudo-labels.ts';
import type { Level } from '../../core/pipeline/ensemble-stage.ts';

describe('pseudoLabels', () => {
  // Three fold models over 6 test rows: they agree on rows 1, 3 and 4, disagree on the others.
  const testFolds = [
    Float64Array.from([1, 5, 9, 2, 7, 0]),
    Float64Array.from([3, 5, 1, 2, 7, 8]),
    Float64Array.from([5, 5, 5, 2, 7.3, 4]),
  ];
  const test = Float64Array.from({ length: 6 }, (_, i) => testFolds.reduce((s, t) => s + t[i], 0) / 3);
  const level: Level = { id: 'final', oof: new Float64Array(0), testFolds, test, scores: {} };

  it('takes the rows the fold models agree on most; fold f gets its own model\'s labels', () => {
    const p = pseudoLabels(level, { rounds: 1, fraction: 0.5, weight: 0.3 })!;
    expect(Array.from(p.rows)).toEqual([1, 3, 4]);
    expect(p.labels.map((l) => Array.from(l))).toEqual([[5, 2, 7], [5, 2, 7], [5, 2, 7.3]]);
    expect(p.weight).toBe(0.3);
    expect(Array.from(pseudoLabels(level, { rounds: 1, fraction: 1, weight: 0.5 })!.rows)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(pseudoLabels(level, { rounds: 0, fraction: 1, weight: 0.5 })).toBeUndefined();
  });
});

describe('chooseRound', () => {
  // 4 folds of 10 rows; labels 0, so MAE is the mean absolute prediction.
  const folds = { k: 4, fold: Int32Array.from({ length: 40 }, (_, i) => i % 4) };
  const y = new Float64Array(40);
  const perFold = (v: number[]) => Float64Array.from({ length: 40 }, (_, i) => v[i % 4]);
  const round0 = perFold([1, 1, 1, 1]);

  it('keeps a round that is better in every fold (lower-is-better MAE)', () => {
    const { chosen, rounds } = chooseRound([round0, perFold([0.9, 0.95, 0.9, 0.92])], y, folds, 'mae');
    expect(chosen).toBe(1);
    expect(rounds[1].gain!.mean).toBeCloseTo((0.1 + 0.05 + 0.1 + 0.08) / 4, 12);
    expect(rounds[1].kept).toBe(true);
    expect(rounds[0].kept).toBe(false);
    expect(rounds[1].folds).toEqual([0.9, 0.95, 0.9, 0.92].map((v) => expect.closeTo(v, 12)));
  });

  it('keeps round 0 when the mean gain is within its standard error', () => {
    // Gains 0.5, -0.1, -0.1, -0.1: mean 0.05, sd 0.3, standard error 0.15.
    const { chosen, rounds } = chooseRound([round0, perFold([0.5, 1.1, 1.1, 1.1])], y, folds, 'mae');
    expect(chosen).toBe(0);
    expect(rounds[1].gain!.mean).toBeCloseTo(0.05, 12);
    expect(rounds[1].gain!.se).toBeCloseTo(0.15, 12);
    expect(rounds[0].kept).toBe(true);
  });

  it('a worse round is never kept, and the direction follows the metric (higher-is-better SRC)', () => {
    expect(chooseRound([round0, perFold([1.2, 1.2, 1.2, 1.2])], y, folds, 'mae').chosen).toBe(0);
    // SRC: round 1 ranks each fold's rows in the label order, round 0 against it.
    const yr = Float64Array.from({ length: 40 }, (_, i) => i);
    const reversed = yr.map((v) => -v + (v % 3));
    const ordered = yr.map((v) => v + (v % 3));
    expect(chooseRound([reversed, ordered], yr, folds, 'src').chosen).toBe(1);
    expect(chooseRound([ordered, reversed], yr, folds, 'src').chosen).toBe(0);
  });

  it('a round that gains in every fold but loses pooled over all rows (fold offsets) is not kept', () => {
    const yr = Float64Array.from({ length: 40 }, (_, i) => i);
    // Round 0: a little disorder inside each fold; round 1: perfect inside each fold, but each
    // fold shifted so far that pooled ranks follow the fold, not the label.
    const round0 = yr.map((v) => v + ((v * 7) % 5) * 3);
    const round1 = yr.map((v) => v - 1000 * (v % 4));
    const { chosen, rounds } = chooseRound([round0, round1], yr, folds, 'src');
    expect(rounds[1].gain!.mean).toBeGreaterThan(rounds[1].gain!.se);
    expect(rounds[1].pooled).toBeLessThan(rounds[0].pooled);
    expect(chosen).toBe(0);
  });

  it('of several qualifying rounds keeps the one with the largest mean gain; NaN rows are never scored', () => {
    const a = perFold([0.9, 0.9, 0.9, 0.91]);
    const b = perFold([0.8, 0.82, 0.8, 0.8]);
    const c = perFold([0.85, 0.85, 0.85, 0.86]);
    expect(chooseRound([round0, a, b, c], y, folds, 'mae').chosen).toBe(2);
    const held = { k: 4, fold: Int32Array.from({ length: 40 }, (_, i) => (i < 8 ? -1 : i % 4)) };
    const withNaN = b.map((v, i) => (i < 8 ? NaN : v));
    expect(chooseRound([round0, withNaN], y, held, 'mae').chosen).toBe(1);
  });
});
