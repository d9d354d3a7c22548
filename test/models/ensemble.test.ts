import { describe, expect, it } from 'vitest';
import { Random } from '../../core/random.ts';
import { nnls } from '../../models/ensemble/nnls.ts';
import { blendWeights } from '../../models/ensemble/blend.ts';

const columns = (n: number, k: number, seed: number) => {
  const rng = new Random(seed);
  return Array.from({ length: k }, () => Float64Array.from({ length: n }, () => rng.normal()));
};

describe('nnls', () => {
  it('recovers exact non-negative weights and the intercept', () => {
    const [a, b, c] = columns(300, 3, 1);
    const y = a.map((_, i) => 2 + 0.3 * a[i] + 0.7 * b[i]);
    const fit = nnls([a, b, c], y, { alpha: 0 });
    expect(fit.weights[0]).toBeCloseTo(0.3, 8);
    expect(fit.weights[1]).toBeCloseTo(0.7, 8);
    expect(fit.weights[2]).toBeCloseTo(0, 8);
    expect(fit.intercept).toBeCloseTo(2, 8);
  });

  it('switches a model off (weight 0) where least squares would subtract it', () => {
    const [a, c] = columns(400, 2, 2);
    const y = a.map((v, i) => 2 * v - 0.5 * c[i]); // least squares: c at -0.5
    const fit = nnls([a, c], y, { alpha: 0 });
    expect(fit.weights[1]).toBe(0);
    // ...and a gets its least-squares weight alone.
    expect(fit.weights[0]).toBeCloseTo(nnls([a], y, { alpha: 0 }).weights[0], 8);
    expect(fit.weights[0]).toBeGreaterThan(1.8);
  });

  it('alpha shrinks the weights; rows with weight 0 do not count', () => {
    const [a, junk] = columns(200, 2, 3);
    const y = a.map((v) => v);
    const free = nnls([a], y, { alpha: 0 }).weights[0];
    const ridge = nnls([a], y, { alpha: 1 }).weights[0];
    expect(free).toBeCloseTo(1, 8);
    // ridge on mean loss: w = var(a) / (var(a) + alpha), a shrink of about one half
    expect(ridge).toBeGreaterThan(0.3);
    expect(ridge).toBeLessThan(0.7);
    // 100 more rows of junk labels, weighted 0: same fit as without them
    const a2 = Float64Array.from([...a, ...junk.slice(0, 100)]);
    const y2 = Float64Array.from([...y, ...junk.slice(100, 200).map((v) => 50 * v)]);
    const w = Float64Array.from({ length: 300 }, (_, i) => (i < 200 ? 1 : 0));
    const weighted = nnls([a2], y2, { alpha: 0, weight: w });
    expect(weighted.weights[0]).toBeCloseTo(1, 8);
    expect(weighted.intercept).toBeCloseTo(0, 8);
  });
});

describe('blendWeights', () => {
  it('two models with opposite errors blend half and half (MAE)', () => {
    const [y, d] = columns(200, 2, 4);
    const up = y.map((v, i) => v + Math.abs(d[i]));
    const down = y.map((v, i) => v - Math.abs(d[i]));
    expect(blendWeights([up, down], y, 'mae')).toEqual([0.5, 0.5]);
  });

  it('a useless model gets weight 0, for higher-is-better metrics too (SRC)', () => {
    const [y, noise] = columns(300, 2, 5);
    const good = y.map((v, i) => v + 0.1 * noise[i]);
    expect(blendWeights([noise, good], y, 'src')).toEqual([0, 1]);
    expect(blendWeights([noise, good], y, 'rmse')).toEqual([0, 1]);
  });

  it('finds a 2:1 mix when that is where the metric is best, and stops there', () => {
    // y = (2a + b) / 3 exactly: picks a, then b, then a reach RMSE 0; no further pick improves.
    const [a, b] = columns(200, 2, 6);
    const y = a.map((v, i) => (2 * v + b[i]) / 3);
    expect(blendWeights([a, b], y, 'rmse', 100)).toEqual([2 / 3, 1 / 3]);
    expect(blendWeights([a, b], y, 'rmse', 2)).toEqual([0.5, 0.5]); // the step budget caps it
  });
});
