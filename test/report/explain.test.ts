import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baselineScores, blockShares, cvRows, foldSpread, importanceShares, legend, runMetrics, validationText } from '../../core/report/explain.ts';
import { formatRunSummary, postprocessText } from '../../core/report/summary.ts';
import { readRunFolder, type OofRows } from '../../core/report/run-folder.ts';
import { METRICS } from '../../core/eval/metrics.ts';
import { TASK_METRICS } from '../../core/eval/score.ts';
import { writeFakeRun } from './fake-run.ts';

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'smp-explain-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function oofOf(label: number[], fold: number[]): OofRows {
  return { pid: label.map((_, i) => `p${i}`), label: Float64Array.from(label), fold: Int32Array.from(fold), prediction: new Float64Array(label.length) };
}

describe('legend', () => {
  it('names every metric of both tasks with its direction, from the metric table', () => {
    for (const task of ['regression', 'binary'] as const) {
      const metrics = [...TASK_METRICS[task]];
      const leg = legend(metrics, metrics[0], { folds: true, baseline: true });
      expect(leg.map((l) => l.metric)).toEqual([...metrics.map((m) => m.toUpperCase()), 'mean ± std', 'baseline']);
      for (const [i, m] of metrics.entries()) {
        expect(leg[i].text).toContain(METRICS[m].legend);
        expect(leg[i].text).toContain(METRICS[m].higherIsBetter ? 'higher is better' : 'lower is better');
      }
      expect(leg[0].text).toMatch(/Main metric$/);
    }
    expect(legend(['src', 'mae', 'mape', 'rmse'], 'mape', { folds: true, baseline: true })).toMatchSnapshot();
    expect(legend(['auc', 'accuracy', 'src'], 'auc', { baseline: true }).at(-1)!.text).toBe(
      "a constant prediction fitted on each fold's training rows: the positive-class share (the majority class at 0.5) for ACCURACY; AUC of any constant is chance level; SRC of a constant is undefined (—). A learner that does not beat it has learned nothing",
    );
  });
});

describe('baseline', () => {
  it('regression: median (MAE), 1/|y|-weighted median (MAPE) and mean (RMSE) of the other folds\' rows, SRC undefined', () => {
    // fold 0 trains on {4, 10, 20, 7} (the -1 row trains every fold): median 8.5, mean 10.25,
    // weighted median 7 (weights 1/4 + 1/7 pass half of 1/4 + 1/7 + 1/10 + 1/20 at 7);
    // fold 1 trains on {1, 2, 3, 7}: median 2.5, mean 3.25
    const oof = oofOf([1, 2, 3, 4, 10, 20, 7], [0, 0, 0, 1, 1, 1, -1]);
    const b = baselineScores(oof, ['src', 'mae', 'mape', 'rmse']);
    expect(b.folds).toHaveLength(2);
    expect(b.folds[0].mae).toBeCloseTo((7.5 + 6.5 + 5.5) / 3, 12);
    expect(b.folds[1].mae).toBeCloseTo((1.5 + 7.5 + 17.5) / 3, 12);
    expect(b.folds[0].mape).toBeCloseTo((6 / 1 + 5 / 2 + 4 / 3) / 3, 12);
    // fold 1: weights 1, 1/2, 1/3, 1/7 (total 1.976): 1 alone passes half, so the constant is 1
    expect(b.folds[1].mape).toBeCloseTo((3 / 4 + 9 / 10 + 19 / 20) / 3, 12);
    expect(b.folds[1].rmse).toBeCloseTo(Math.sqrt(((4 - 3.25) ** 2 + (10 - 3.25) ** 2 + (20 - 3.25) ** 2) / 3), 12);
    // pooled over the six validated rows, each with its own fold's constant
    expect(b.scores.mae).toBeCloseTo((7.5 + 6.5 + 5.5 + 1.5 + 7.5 + 17.5) / 6, 12);
    expect(b.scores.src).toBeNaN();
    expect(b.folds[0].src).toBeNaN();
  });

  it('binary: the training share of positives (majority class at 0.5); AUC is chance', () => {
    // fold 0 trains on fold 1's labels (3 of 4 positive: predicts 1), fold 1 on fold 0's (1 of 4: predicts 0)
    const oof = oofOf([0, 0, 0, 1, 1, 1, 1, 0], [0, 0, 0, 0, 1, 1, 1, 1]);
    const b = baselineScores(oof, ['auc', 'accuracy', 'f1', 'src']);
    expect(b.folds[0].accuracy).toBe(0.25);
    expect(b.folds[1].accuracy).toBe(0.25);
    expect(b.scores.accuracy).toBe(0.25);
    expect(b.scores.auc).toBe(0.5);
    expect(b.folds.map((f) => f.auc)).toEqual([0.5, 0.5]);
    expect(b.scores.src).toBeNaN();
    expect(b.scores.f1).toBeCloseTo(METRICS.f1.fn([0, 0, 0, 1, 1, 1, 1, 0], [1, 1, 1, 1, 0, 0, 0, 0]), 12);
  });
});

describe('fold spread', () => {
  it('mean and sample standard deviation over folds; no std from one fold', () => {
    const s = foldSpread([{ src: 1 }, { src: 2 }, { src: 3 }, { src: 4 }], 'src');
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(s.n).toBe(4);
    const one = foldSpread([{ src: 0.7 }], 'src');
    expect([one.mean, one.n]).toEqual([0.7, 1]);
    expect(one.std).toBeNaN();
  });
});

describe('importance shares', () => {
  it('sum to 1 per learner and per block, on each learner\'s own scale', () => {
    const dir = writeFakeRun({ work: path.join(work, 'imp'), nTrain: 100, nTest: 20, cache: false });
    const run = readRunFolder(dir);
    for (const m of run.models) {
      const s = importanceShares(m.importance);
      expect(s).toHaveLength(m.importance.length);
      expect(s.reduce((t, x) => t + x.share, 0)).toBeCloseTo(1, 12);
      const b = blockShares(m.importance);
      expect(b.map((x) => x.name).sort()).toEqual(['meta', 'time', 'userstats']);
      expect(b.reduce((t, x) => t + x.share, 0)).toBeCloseTo(1, 12);
    }
    // ridge's raw importances (0.55, 0.08, 0.01, 0.2) and gbdt's (120, 40, 5, 30) differ 200-fold; shares compare
    const ridge = blockShares(run.models.find((m) => m.id === 'ridge')!.importance);
    expect(ridge[0]).toEqual({ name: 'meta', share: expect.closeTo((0.55 + 0.01) / 0.84, 12) });
    const gbdt = blockShares(run.models.find((m) => m.id === 'gbdt')!.importance);
    expect(gbdt.find((x) => x.name === 'time')!.share).toBeCloseTo(40 / 195, 12);
    expect(importanceShares([{ feature: 'a.x', importance: 0 }])).toEqual([]);
  });
});

describe('run summary', () => {
  it('CV table with mean ± std, baseline and final rows, legend, block importance and post-processing', () => {
    const dir = writeFakeRun({ work: path.join(work, 'sum'), nTrain: 200, nTest: 40, cache: false });
    const run = readRunFolder(dir);
    const rows = cvRows(run, runMetrics(run));
    expect(rows.map((r) => `${r.learner} ${r.rows}`)).toEqual([
      'ridge mean ± std',
      'ridge all (OOF)',
      'gbdt mean ± std',
      'gbdt all (OOF)',
      'baseline mean ± std',
      'baseline all (OOF)',
      'final all (OOF)',
    ]);
    const metrics = JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8'));
    const s = foldSpread(metrics.gbdt.folds, 'mae');
    expect(rows[2].values[1]).toBe(`${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}`);
    const text = formatRunSummary(run);
    const baseline = text.split('\n').find((l) => /^ {2}baseline +all \(OOF\)/.test(l))!;
    expect(baseline.split(/\s{2,}/).slice(3)[0]).toBe('—'); // SRC column
    expect(text).toContain('Post-processing: scale 1.0200');
    expect(text).toContain('ridge [ridge importance]: meta 0.667, userstats 0.238, time 0.095');
    expect(text).toMatchSnapshot();
  });

  it('says when no post-processing was applied, and flags an optimistic CV', () => {
    const dir = writeFakeRun({ work: path.join(work, 'pp'), nTrain: 100, nTest: 20, cache: false, extras: false });
    const run = readRunFolder(dir);
    expect(postprocessText(run)).toBe('none');
    // as the runner records it: the config in run.json, the fitted values in metrics.json
    run.info.config!.postprocess = { clip: true, calibrate: true, scale: 'auto', scale_range: [0.9, 1.1], date_trend: false };
    run.ensemble = { postprocess: { calibrate_a: 0.5, calibrate_b: 0.9, scale: 1.05 } };
    expect(postprocessText(run)).toBe('test predictions: scale 1.05 (auto), calibration 0.5000 + 0.9000 x p, clipped to the train label range; fitted on all OOF rows (CV rows: fitted on the other folds)');
    // fitted values that do not fit the config (another kit version): listed as they are
    run.ensemble = { postprocess: { scale: 1.05 } };
    expect(postprocessText(run)).toBe('scale 1.0500');
    expect(formatRunSummary(run)).not.toContain('warning');
    run.info.config!.validation = { scheme: 'kfold', folds: 5, early_stopping: 'inner' };
    expect(validationText(run)).toBe("kfold, 5 folds, early stopping on an inner split of each fold's training rows");
    // as the runner records it in metrics.json
    run.validation = { scheme: 'kfold', early_stopping: 'fold', optimistic: true, note: 'optimistic CV: gbdt chose their rounds on each fold\'s validation rows' };
    expect(formatRunSummary(run).split('\n')[1]).toBe("  warning: optimistic CV: gbdt chose their rounds on each fold's validation rows");
  });
});
