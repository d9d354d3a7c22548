/**
 * @file Multi-target runs on the illustration stand-in (pipelines/illustration-views.yaml, two
 * targets from an image column): per-target metrics, files and report plots, a target-vs-target
 * plot, the `id,log_views,log_favourites` submission and `smp validate` on it; the mlp fits one
 * network with a head per target; each target's per-target learners equal a one-target run of
 * its column (same blocks, folds and seeds), and that one-target run keeps the one-target file
 * names. About 30 s.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthTable } from '../../core/data/synth-table.ts';
import { readTableFile } from '../../core/data/table-file.ts';
import { loadPipeline } from '../../core/pipeline/load.ts';
import { runPipeline, type RunResult } from '../../core/pipeline/run.ts';
import { validateSubmissionText } from '../../core/submit/validate.ts';
import { readZipEntry } from '../../core/submit/zip.ts';
import { exportRun } from '../../core/export/export-run.ts';
import { compareRuns } from '../../core/report/compare.ts';
import { readNpy } from '../../core/cache/npy.ts';
import { readOof, readTest } from '../../core/report/run-folder.ts';
import { REPO, tmpDir, writeFile } from '../helpers.ts';

const PIPELINE = path.join(REPO, 'pipelines', 'illustration-views.yaml');
const TARGETS = ['log_views', 'log_favourites'];
const HEADER = 'id,log_views,log_favourites';
let dir: string;
let data: string;
let run: RunResult;

beforeAll(async () => {
  dir = tmpDir('multi-target');
  await synthTable({ out: path.join(dir, 'ill'), preset: 'illustration', seed: 3, rows: 240 });
  data = path.join(dir, 'ill', 'illustrations.csv');
  run = await runPipeline(PIPELINE, { data, workDir: dir, quiet: true, timestamp: 'multi' });
});

describe('pipelines/illustration-views.yaml (two targets)', () => {
  it('writes per-target metrics and files, and learns the planted signal of each target', () => {
    const metrics = JSON.parse(fs.readFileSync(path.join(run.runDir, 'metrics.json'), 'utf8'));
    expect(Object.keys(metrics)).toEqual(['targets']);
    expect(Object.keys(metrics.targets)).toEqual(TARGETS);
    const train = fs.readFileSync(data, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')).filter((r) => r[4] === 'train');
    for (const [t, target] of TARGETS.entries()) {
      const m = metrics.targets[target];
      for (const id of ['gbdt', 'forest', 'ridge', 'mlp', 'final']) expect(m[id].rmse, `${target} ${id}`).toBeGreaterThan(0);
      expect(m.gbdt.folds).toHaveLength(5);
      // early stopping and importance method recorded per target, as for one target
      expect(m.gbdt.early_stopping).toBe('inner');
      expect(typeof m.gbdt.importance_method).toBe('string');
      for (const f of ['gbdt', 'forest', 'ridge', 'mlp', 'final']) {
        expect(fs.existsSync(path.join(run.runDir, `${f}.${target}.oof.csv`)), `${f}.${target}.oof.csv`).toBe(true);
        expect(fs.existsSync(path.join(run.runDir, `${f}.${target}.test.csv`)), `${f}.${target}.test.csv`).toBe(true);
      }
      // the image explains part of each target: CV RMSE well under the labels' spread
      const y = train.map((r) => Number(r[2 + t]));
      const mean = y.reduce((s, v) => s + v, 0) / y.length;
      const sd = Math.sqrt(y.reduce((s, v) => s + (v - mean) ** 2, 0) / y.length);
      expect(m.final.rmse, target).toBeLessThan(0.85 * sd);
      // the OOF file holds this target's labels
      const oof = fs.readFileSync(path.join(run.runDir, `final.${target}.oof.csv`), 'utf8').trim().split('\n');
      expect(Number(oof[1].split(',')[1])).toBeCloseTo(Number(train[0][2 + t]), 4);
    }
    expect(fs.existsSync(path.join(run.runDir, 'final.oof.csv'))).toBe(false);
    expect(run.targets.map((t) => t.name)).toEqual(TARGETS);
  });

  it('reports each target and plots one target\'s predictions against the other\'s', () => {
    const report = fs.readFileSync(run.reportPath!, 'utf8');
    for (const target of TARGETS) {
      expect(report).toContain(`id="cv-${target}"`);
      expect(report).toContain(`id="plot-pred-vs-actual-${target}"`);
      // the one-target sections, once per target: importance shares per block, with each learner's method
      expect(report).toContain(`id="importance-${target}"`);
    }
    // each target's CV table carries the metric legend and the constant baseline
    expect(report.match(/<dl class="legend">/g)).toHaveLength(TARGETS.length);
    expect(report).toContain('id="plot-targets-log_views-log_favourites"');
    expect(report).not.toContain('plot failed');
  });

  it('submits one column per target; smp validate accepts it and rejects a missing row, a wrong id and a NaN', async () => {
    const { name, text } = await readZipEntry(run.zipPath);
    expect(name).toBe('submission.csv');
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe(HEADER);
    const ids = run.table.pid.slice(run.table.nTrain);
    expect(lines).toHaveLength(ids.length + 1);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(ids);
    expect(lines.slice(1).map((l) => Number(l.split(',')[2]))).toEqual(Array.from(run.targets[1].testPredictions, (v) => Number(v.toFixed(6))));
    const check = (t: string) => validateSubmissionText('s.csv', t, 'table', ids, { header: HEADER }).join('\n');
    expect(check(text)).toBe('');
    expect(check([...lines.slice(0, 5), ...lines.slice(6)].join('\n') + '\n')).toMatch(new RegExp(`${ids.length - 1} rows, the test set has ${ids.length} posts`));
    expect(check(lines.map((l, i) => (i === 3 ? l.replace(/^[^,]+/, 'ill99999') : l)).join('\n') + '\n')).toMatch(/line 4: "ill99999" is not a test post/);
    expect(check(lines.map((l, i) => (i === 2 ? l.replace(/,[^,]*$/, ',NaN') : l)).join('\n') + '\n')).toMatch(/line 3: log_favourites NaN is not a finite number/);
    expect(check(lines.map((l, i) => (i === 2 ? l.replace(/,[^,]*$/, '') : l)).join('\n') + '\n')).toMatch(/s\.csv:3: expected 3 fields, found 2/);
    expect(check(text.replace(HEADER, 'id,log_views'))).toMatch(/header must be "id,log_views,log_favourites"/);
    const cli = spawnSync(process.execPath, [path.join(REPO, 'bin', 'smp.js'), 'validate', run.zipPath, '--pipeline', PIPELINE, '--data', data], { cwd: dir, encoding: 'utf8' });
    expect(cli.stdout).toContain(`valid table-track submission, ${ids.length} rows in test-set order, header ${HEADER}`);
    expect(cli.status).toBe(0);
  });

  it('smp export writes every target\'s labels and predictions', async () => {
    const exp = await exportRun(run.runDir, { formats: ['npy'], out: path.join(dir, 'export') });
    const read = (name: string) => {
      const cols = fs.readFileSync(path.join(exp.out, `${name}.columns.txt`), 'utf8').trim().split('\n');
      const m = readNpy(path.join(exp.out, `${name}.npy`));
      return { cols, at: (col: string, r: number) => m.data[r * cols.length + cols.indexOf(col)] };
    };
    const train = read('train');
    const ids = ['gbdt', 'forest', 'ridge', 'mlp', 'final'];
    expect(train.cols).toEqual(['label.log_views', 'label.log_favourites', 'fold', ...TARGETS.flatMap((t) => ids.map((id) => `${id}.${t}`))]);
    const test = read('test');
    expect(test.cols).toEqual(TARGETS.flatMap((t) => ids.map((id) => `${id}.${t}`)));
    for (const t of TARGETS) {
      const oof = readOof(path.join(run.runDir, `final.${t}.oof.csv`))!;
      const pred = readTest(path.join(run.runDir, `mlp.${t}.test.csv`))!;
      for (const r of [0, 7, oof.pid.length - 1]) {
        expect(train.at(`label.${t}`, r)).toBeCloseTo(oof.label[r], 6);
        expect(train.at(`final.${t}`, r)).toBeCloseTo(oof.prediction[r], 6);
      }
      expect(test.at(`mlp.${t}`, 3)).toBeCloseTo(pred.prediction[3], 6);
    }
    expect(fs.readFileSync(path.join(exp.out, 'README.md'), 'utf8')).toContain('Targets log_views, log_favourites: the train and test tables carry `label.<target>`');
  });

  for (const method of ['best', 'mean', 'stack']) {
    it(`ensemble.method: ${method} runs per target`, async () => {
      const r = await runPipeline(PIPELINE, { data, workDir: dir, quiet: true, timestamp: method, set: [`ensemble.method=${method}`] });
      const metrics = JSON.parse(fs.readFileSync(path.join(r.runDir, 'metrics.json'), 'utf8'));
      const train = fs.readFileSync(data, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')).filter((row) => row[4] === 'train');
      for (const [k, t] of TARGETS.entries()) {
        const m = metrics.targets[t];
        expect(m.ensemble.method).toBe(method);
        // post-processing clips to this target's train label range
        const labels = train.map((row) => Number(row[2 + k]));
        const clip = (v: number) => Math.min(Math.max(...labels), Math.max(Math.min(...labels), v));
        expect(m.final.rmse).toBeGreaterThan(0);
        const final = readTest(path.join(r.runDir, `final.${t}.test.csv`))!.prediction;
        const members = ['gbdt', 'forest', 'ridge', 'mlp'].map((id) => readTest(path.join(r.runDir, `${id}.${t}.test.csv`))!.prediction);
        if (method === 'mean') final.forEach((v, i) => expect(v).toBeCloseTo(clip(members.reduce((s, p) => s + p[i], 0) / members.length), 5));
        if (method === 'best') {
          // each of the 5 folds picks one member on the other folds' rows: weights are fold shares
          const w = Object.values(m.ensemble.weights.final as Record<string, number>);
          expect(w.reduce((x, v) => x + v, 0)).toBeCloseTo(1, 6);
          for (const v of w) expect(v * 5).toBeCloseTo(Math.round(v * 5), 5);
        }
      }
      // the two targets are combined separately: their final predictions differ
      expect(r.targets[0].testPredictions).not.toEqual(r.targets[1].testPredictions);
    });
  }

  it('the mlp is one network with a head per target, and says so', () => {
    const events = fs.readFileSync(path.join(run.runDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events.some((e) => e.stage === 'model mlp' && /one model for the 2 targets \(a head per target\)/.test(e.message))).toBe(true);
    // each fold's fit logs one network whose output layer has two heads
    const fits = events.filter((e) => e.stage === 'model:mlp' && /^mlp: \d+ rows/.test(e.message ?? ''));
    expect(fits.length).toBe(5);
    for (const e of fits) expect(e.message).toMatch(/layers 64-16-2 \(one network, a head per target: 2 targets\)/);
    expect(events.some((e) => e.stage === 'model gbdt' && /one model/.test(e.message))).toBe(false);
  });

  it('a pseudo-label round trains the joint mlp on both targets\' pseudo-labelled test rows', async () => {
    const r = await runPipeline(PIPELINE, { data, workDir: dir, quiet: true, timestamp: 'pseudo', set: ['pseudo_labels.rounds=1', 'pseudo_labels.fraction=0.5'] });
    const metrics = JSON.parse(fs.readFileSync(path.join(r.runDir, 'metrics.json'), 'utf8'));
    for (const t of TARGETS) expect(metrics.targets[t].pseudo_label_rounds.map((p: { round: number }) => p.round)).toEqual([0, 1]);
    const events = fs.readFileSync(path.join(r.runDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const rows = events.filter((e) => e.stage === 'model:mlp' && /^mlp: \d+ rows/.test(e.message ?? '')).map((e) => Number(/^mlp: (\d+) rows/.exec(e.message)![1]));
    // 5 folds per round, one network each; round 1 adds the union of the two targets' pseudo rows
    // (each target picks its own half of the 60 test rows), so between 30 and 60 more rows
    expect(rows).toHaveLength(10);
    for (let f = 0; f < 5; f++) {
      expect(rows[5 + f] - rows[f]).toBeGreaterThanOrEqual(30);
      expect(rows[5 + f] - rows[f]).toBeLessThanOrEqual(60);
    }
  });

  it('each target gets exactly what a one-target run of its column gets from the per-target learners, and that run keeps the one-target files', async () => {
    const one = await runPipeline(PIPELINE, { data, workDir: dir, quiet: true, timestamp: 'one', set: ['data.label=log_favourites'] });
    const metrics = JSON.parse(fs.readFileSync(path.join(one.runDir, 'metrics.json'), 'utf8'));
    const multi = JSON.parse(fs.readFileSync(path.join(run.runDir, 'metrics.json'), 'utf8'));
    for (const id of ['gbdt', 'forest', 'ridge']) {
      expect(metrics[id], id).toEqual(multi.targets.log_favourites[id]);
      expect(fs.readFileSync(path.join(one.runDir, `${id}.test.csv`), 'utf8')).toBe(fs.readFileSync(path.join(run.runDir, `${id}.log_favourites.test.csv`), 'utf8'));
    }
    // the joint network learned from both targets' labels: not what a network of its own learns
    expect(metrics.mlp.rmse).not.toBe(multi.targets.log_favourites.mlp.rmse);
    expect(fs.readdirSync(one.runDir).filter((f) => f.includes('log_'))).toEqual([]);
    expect((await readZipEntry(one.zipPath)).text.split('\n')[0]).toBe('id,log_favourites');
    expect(one.targets).toEqual([]);
  });
});

describe('smp compare with several targets', () => {
  it('ranks each target of a multi-target run in its own group; a one-target run of a column is another dataset', async () => {
    // made by the tests above; made here when this test runs alone
    for (const [name, set] of [['one', 'data.label=log_favourites'], ['best', 'ensemble.method=best']])
      if (!fs.existsSync(path.join(dir, 'runs', 'illustration-views', name))) await runPipeline(PIPELINE, { data, workDir: dir, quiet: true, timestamp: name, set: [set] });
    const views = ['multi', 'best', 'one'].map((n) => path.join(dir, 'runs', 'illustration-views', n));
    const { board, text } = await compareRuns(views);
    expect(board.groups.map((g) => [g.label, g.rows.map((r) => `${r.pipeline} ${r.run}`)])).toEqual([
      ['log_views', expect.arrayContaining(['illustration-views [log_views] multi', 'illustration-views [log_views] best'])],
      ['log_favourites', expect.arrayContaining(['illustration-views [log_favourites] multi', 'illustration-views [log_favourites] best'])],
      // the one-target run reads log_views as an ordinary column: another column spec, another fingerprint
      ['log_favourites', ['illustration-views one']],
    ]);
    expect(board.groups[2].dataset.fingerprint).not.toBe(board.groups[1].dataset.fingerprint);
    expect(text).toContain('label log_favourites, regression, ranked by final CV RMSE');
  });
});

describe('several label columns', () => {
  it('a train row with one empty label is an error naming the row and the column; a row with none is a test row', async () => {
    const f = writeFile(path.join(dir, 'two', 'data.csv'), 'id,x,a,b\nr1,1,1.5,2\nr2,2,,\nr3,3,2.5,\n');
    await expect(readTableFile(f, { id: 'id', label: ['a', 'b'] })).rejects.toThrow(/data\.csv: row 3 \(line 4\), column "b": empty label in a train row/);
    const g = writeFile(path.join(dir, 'two', 'ok.csv'), 'id,x,a,b\nr1,1,1.5,2\nr2,2,,\nr3,3,2.5,4\n');
    const t = await readTableFile(g, { id: 'id', label: ['a', 'b'] });
    expect([t.nTrain, t.nTest]).toEqual([2, 1]);
    expect(Array.from(t.labels!.b)).toEqual([2, 4, NaN]);
    expect(t.label).toBe(t.labels!.a);
    expect(Object.keys(t.roles!)).toEqual(['x']);
  });

  it('a label column listed twice is an error naming the place', () => {
    const f = writeFile(path.join(dir, 'twice.yaml'), fs.readFileSync(PIPELINE, 'utf8').replace('label: [log_views, log_favourites]', 'label: [log_views, log_views]'));
    expect(() => loadPipeline(f)).toThrow(/twice\.yaml:\d+:\d+ data\.label\[1\]: "log_views" is listed twice/);
  });
});
