/**
 * @file The table track end to end on the artwork stand-in: pipelines/artwork-classify.yaml
 * (decision tree, random forest, AdaBoost, gbdt, mlp, logistic ridge, a stack; 5-fold
 * stratified) prints and stores all five binary metrics per learner, writes `id,popularity`
 * probabilities that score a test AUC above the bar against the held-back labels, and
 * `smp validate` accepts that submission and rejects a missing row, a wrong id and a NaN.
 * About 30 s.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthTable, ARTWORK_COLUMNS } from '../../core/data/synth-table.ts';
import { planRun, runPipeline, type RunResult } from '../../core/pipeline/run.ts';
import { loadPipeline } from '../../core/pipeline/load.ts';
import { auc, pearson } from '../../core/eval/metrics.ts';
import { validateSubmissionText } from '../../core/submit/validate.ts';
import { readZipEntry } from '../../core/submit/zip.ts';
import { REPO, tmpDir, writeFile } from '../helpers.ts';

const PIPELINE = path.join(REPO, 'pipelines', 'artwork-classify.yaml');
let dir: string;
let data: string;
let run: RunResult;

beforeAll(async () => {
  dir = tmpDir('table-track');
  await synthTable({ out: path.join(dir, 'artwork'), preset: 'artwork', seed: 7 });
  data = path.join(dir, 'artwork', 'artwork.csv');
  run = await runPipeline(PIPELINE, { data, workDir: dir, quiet: true, timestamp: 't' });
});

describe('artwork stand-in', () => {
  it('has exactly the study\'s columns, 389 rows, a 70/30 split and the planted correlate', () => {
    const lines = fs.readFileSync(data, 'utf8').trim().split('\n');
    expect(lines[0].split(',')).toEqual([...ARTWORK_COLUMNS]);
    expect(lines).toHaveLength(390);
    const rows = lines.slice(1).map((l) => l.split(','));
    const split = ARTWORK_COLUMNS.indexOf('split');
    expect(rows.filter((r) => r[split] === 'test')).toHaveLength(117);
    // test rows' labels are held back in answers/
    const label = ARTWORK_COLUMNS.indexOf('popularity');
    expect(rows.filter((r) => r[split] === 'test').every((r) => r[label] === '')).toBe(true);
    // interactive_elements is the strongest correlate of the label among the numeric columns
    const train = rows.filter((r) => r[split] === 'train');
    const y = train.map((r) => Number(r[label]));
    const numeric = ['artist_experience', 'ai_assisted', 'file_size', 'aspect_ratio', 'animation_frames', 'frame_rate', 'color_count', 'complexity_score', 'text_elements', 'interactive_elements'];
    const r = Object.fromEntries(numeric.map((c) => [c, Math.abs(pearson(train.map((row) => Number(row[ARTWORK_COLUMNS.indexOf(c as never)])), y))]));
    expect(r.interactive_elements).toBeGreaterThan(0.45);
    expect(Math.max(...numeric.filter((c) => c !== 'interactive_elements').map((c) => r[c]))).toBeLessThan(r.interactive_elements - 0.15);
  });
});

describe('pipelines/artwork-classify.yaml', () => {
  it('reports accuracy, precision, recall, F1 and AUC for every learner and the stack', () => {
    const metrics = JSON.parse(fs.readFileSync(path.join(run.runDir, 'metrics.json'), 'utf8'));
    for (const id of ['tree', 'forest', 'adaboost', 'gbdt', 'mlp', 'ridge', 'final']) {
      for (const m of ['accuracy', 'precision', 'recall', 'f1', 'auc']) expect(metrics[id][m], `${id}.${m}`).toBeGreaterThan(0.6);
    }
    expect(metrics.gbdt.folds).toHaveLength(5);
    const log = fs.readFileSync(path.join(run.runDir, 'log.jsonl'), 'utf8');
    expect(log).toContain('stratified by class');
    const report = fs.readFileSync(run.reportPath!, 'utf8');
    expect(report).toContain('id="plot-roc"');
    expect(report).toContain('id="plot-confusion"');
  });

  it('writes id,popularity probabilities that beat the AUC bar on the held-back test labels', async () => {
    const { name, text } = await readZipEntry(run.zipPath);
    expect(name).toBe('submission.csv');
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('id,popularity');
    expect(lines).toHaveLength(118);
    const answers = new Map(
      fs.readFileSync(path.join(dir, 'artwork', 'answers', 'test_labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',') as [string, string]),
    );
    const rows = lines.slice(1).map((l) => l.split(','));
    const p = rows.map((r) => Number(r[1]));
    expect(p.every((v) => v >= 0 && v <= 1)).toBe(true);
    const testAuc = auc(rows.map((r) => Number(answers.get(r[0]))), p);
    // the planted signal's Bayes AUC is ~0.89; chance is 0.5
    expect(testAuc).toBeGreaterThanOrEqual(0.78);
  });

  it('smp validate accepts the submission and rejects a missing row, a wrong id and a NaN', async () => {
    const { text } = await readZipEntry(run.zipPath);
    const ids = run.table.pid.slice(run.table.nTrain);
    expect(validateSubmissionText('s.csv', text, 'table', ids, { header: 'id,popularity' })).toEqual([]);
    const lines = text.trim().split('\n');
    const missing = [...lines.slice(0, 5), ...lines.slice(6)].join('\n') + '\n';
    expect(validateSubmissionText('s.csv', missing, 'table', ids, { header: 'id,popularity' }).join('\n')).toMatch(/116 rows, the test set has 117 posts/);
    const wrong = lines.map((l, i) => (i === 3 ? l.replace(/^[^,]+/, 'art9999') : l)).join('\n') + '\n';
    expect(validateSubmissionText('s.csv', wrong, 'table', ids, { header: 'id,popularity' }).join('\n')).toMatch(/line 4: "art9999" is not a test post/);
    const nan = lines.map((l, i) => (i === 2 ? l.replace(/,.*$/, ',NaN') : l)).join('\n') + '\n';
    expect(validateSubmissionText('s.csv', nan, 'table', ids, { header: 'id,popularity' }).join('\n')).toMatch(/line 3: score .* is not a finite number/);
    // the command line, with the pipeline naming the columns
    const ok = spawnSync(process.execPath, [path.join(REPO, 'bin', 'smp.js'), 'validate', run.zipPath, '--pipeline', PIPELINE, '--data', data], { cwd: dir, encoding: 'utf8' });
    expect(ok.stdout).toContain('valid table-track submission, 117 rows in test-set order, header id,popularity');
    expect(ok.status).toBe(0);
  });

  it('a change of data.columns recomputes the blocks (the column spec is part of the cache key)', async () => {
    const status = async (set: string[]) => /\n\s+cols\s+columns\s+(to compute|cached)/.exec(await planRun(PIPELINE, { data, workDir: dir, set }))?.[1];
    expect(await status([])).toBe('cached');
    expect(await status(['data.columns={ai_assisted: categorical}'])).toBe('to compute');
  });

  it('labels that are not 0/1 are an error naming the column and the values', async () => {
    const csv = writeFile(path.join(dir, 'counts', 'data.csv'), 'id,x,likes\na,1,0\nb,2,3\nc,3,1\nd,4,\n');
    const yaml = writeFile(path.join(dir, 'counts.yaml'), `track: table\ntask: binary\ndata: { root: ${csv}, id: id, label: likes }\nfeatures: [{ id: cols, kind: columns }]\nmodels: [{ id: ridge, kind: ridge }]\n`);
    await expect(runPipeline(yaml, { workDir: dir, quiet: true })).rejects.toThrow(/task: binary needs 0\/1 train labels, but column "likes" of .*data\.csv has labels such as 3 \(range 0 to 3\)/);
  });

  it('a table pipeline without data.id, or with table keys on another track, is an error naming the place', () => {
    const f = writeFile(path.join(dir, 'noid.yaml'), fs.readFileSync(PIPELINE, 'utf8').replace(/^ {2}id: id\n/m, ''));
    expect(() => loadPipeline(f)).toThrow(/noid\.yaml:\d+:\d+ data: track: table needs data\.id, the id column/);
    const g = writeFile(path.join(dir, 'image.yaml'), fs.readFileSync(PIPELINE, 'utf8').replace('track: table', 'track: image'));
    expect(() => loadPipeline(g)).toThrow(/image\.yaml:\d+:\d+ data\.id: data\.id is for track: table/);
  });
});
