import { describe, expect, it } from 'vitest';
import { Random } from '../../core/random.ts';
import { mape } from '../../core/eval/metrics.ts';
import { fitPostprocess, nestedPostprocess, type PostprocessConfig } from '../../core/pipeline/postprocess.ts';
import { postprocessSchema } from '../../core/pipeline/schema.ts';

const cfg = (c: Partial<PostprocessConfig>): PostprocessConfig => postprocessSchema.parse(c);
const DAY = 86400;

/** n train rows in k folds (row i in fold i % k), labels in [1, 11], dates over 100 days, 20 test rows after them. */
function data(n = 400, k = 4, seed = 1) {
  const rng = new Random(seed);
  const y = Float64Array.from({ length: n }, () => 1 + 10 * rng.next());
  const postdate = Float64Array.from({ length: n + 20 }, (_, i) => (i < n ? 1e9 + (i / n) * 100 * DAY : 1e9 + 110 * DAY));
  const fold = Int32Array.from({ length: n }, (_, i) => i % k);
  return { y, postdate, folds: { k, fold }, rng };
}

describe('fitPostprocess', () => {
  it('calibration recovers an affine map; clipping keeps the train label range', () => {
    const { y, postdate } = data();
    const p = y.map((v) => (v - 2) / 3); // y = 2 + 3 p
    const pp = fitPostprocess(cfg({ calibrate: true }), p, y, postdate, 'mae');
    expect(pp.fitted.calibrate_a).toBeCloseTo(2, 9);
    expect(pp.fitted.calibrate_b).toBeCloseTo(3, 9);
    expect(pp.fitted.scale).toBe(1);
    const out = pp.apply([0, 100, -100], [NaN, NaN, NaN]);
    expect(out[0]).toBeCloseTo(2, 9);
    expect(out[1]).toBe(Math.max(...y));
    expect(out[2]).toBe(Math.min(...y));
  });

  it('scale: auto finds the MAPE-best factor in the range; a rank metric keeps 1', () => {
    const { y, postdate } = data();
    const p = y.map((v) => 0.95 * v); // best factor 1/0.95 = 1.0526; grid step 0.0025
    expect(fitPostprocess(cfg({ scale: 'auto' }), p, y, postdate, 'mape').fitted.scale).toBe(1.0525);
    expect(fitPostprocess(cfg({ scale: 'auto', scale_range: [0.9, 1.02] }), p, y, postdate, 'mape').fitted.scale).toBe(1.02);
    expect(fitPostprocess(cfg({ scale: 'auto' }), p, y, postdate, 'src').fitted.scale).toBe(1);
    expect(fitPostprocess(cfg({ scale: 1.1, clip: false }), p, y, postdate, 'mape').apply([10], [NaN])[0]).toBeCloseTo(11, 12);
  });

  it('date trend: the residual slope per day, applied only past the last fitted date', () => {
    const { y, postdate } = data();
    const days = (i: number) => (postdate[i] - 1e9) / DAY;
    const p = y.map((v, i) => v - 0.01 * days(i)); // residual grows 0.01 per day
    const pp = fitPostprocess(cfg({ date_trend: true, clip: false }), p, y, postdate, 'mae');
    expect(pp.fitted.date_trend_per_day).toBeCloseTo(0.01, 9);
    const last = postdate[399];
    const [inside, after] = pp.apply([5, 5], [last - DAY, last + 10 * DAY]);
    expect(inside).toBe(5);
    expect(after).toBeCloseTo(5.1, 9);
  });
});

describe('nestedPostprocess', () => {
  const all = cfg({ calibrate: true, scale: 'auto', date_trend: true });

  it("a fold's CV rows get parameters fitted without them: changing that fold's labels leaves them unchanged", () => {
    const { y, postdate, folds, rng } = data();
    const oof = y.map((v) => 0.8 * v + rng.normal());
    const source = { oof, test: Float64Array.from({ length: 20 }, (_, i) => i) };
    const a = nestedPostprocess(all, source, y, postdate, folds, 'mape');
    const y2 = y.map((v, i) => (folds.fold[i] === 0 ? 3 * v + 5 : v)); // fold 0's labels only
    const b = nestedPostprocess(all, source, y2, postdate, folds, 'mape');
    expect(b.folds[0]).toEqual(a.folds[0]);
    for (let r = 0; r < y.length; r++) if (folds.fold[r] === 0) expect(b.oof[r]).toBe(a.oof[r]);
    // ...while every other fold, and the test fit (all OOF rows), see fold 0's labels.
    for (const f of [1, 2, 3]) expect(b.folds[f]).not.toEqual(a.folds[f]);
    expect(b.fitted).not.toEqual(a.fitted);
    expect(b.test).not.toEqual(a.test);
    // Fold 1's CV rows got fold 1's parameters: the fit on folds 0, 2, 3.
    const rows = Array.from({ length: y.length }, (_, r) => r).filter((r) => folds.fold[r] !== 1);
    const pick = (v: Float64Array) => Float64Array.from(rows, (r) => v[r]);
    expect(fitPostprocess(all, pick(oof), pick(y), pick(postdate), 'mape').fitted).toEqual(a.folds[1]);
  });

  it('never-validated rows stay NaN and are not fitted on; the test rows get the all-rows fit', () => {
    const { y, postdate, rng } = data();
    const fold = Int32Array.from({ length: y.length }, (_, i) => (i < 100 ? -1 : i % 2));
    const oof = y.map((v, i) => (i < 100 ? NaN : 1.1 * v + 0.1 * rng.normal()));
    const test = Float64Array.from({ length: 20 }, () => 5);
    const post = nestedPostprocess(cfg({ scale: 'auto' }), { oof, test }, y, postdate, { k: 2, fold }, 'mape');
    for (let r = 0; r < 100; r++) expect(post.oof[r]).toBeNaN();
    for (let r = 100; r < y.length; r++) expect(post.oof[r]).not.toBeNaN();
    expect(post.fitted.scale).toBeLessThan(0.93); // 1 / 1.1 = 0.909, NaN rows ignored
    expect(post.test[0]).toBeCloseTo(5 * post.fitted.scale, 12);
    expect(post.folds).toHaveLength(2);
  });

  it('the nested CV is out of sample: fitted on noise, it does not beat the raw prediction', () => {
    // Predictions unrelated to the labels: an in-sample calibration would fit the label mean and
    // look better; the nested one cannot see its own fold and only gets the other folds' mean.
    const { y, postdate, folds, rng } = data(400, 4, 7);
    const oof = Float64Array.from(y, () => 1 + 10 * rng.next());
    const post = nestedPostprocess(cfg({ calibrate: true }), { oof, test: new Float64Array(20) }, y, postdate, folds, 'mae');
    const inSample = fitPostprocess(cfg({ calibrate: true }), oof, y, postdate, 'mae').apply(oof, postdate);
    expect(mape(y, post.oof)).toBeGreaterThan(mape(y, inSample));
  });
});
