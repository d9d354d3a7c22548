import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthImage } from '../../core/data/synth-image.ts';
import { runPipeline } from '../../core/pipeline/run.ts';
import { readDataset } from '../../core/data/read-dataset.ts';
import { validateSubmissionFile } from '../../core/submit/validate.ts';
import { tmpDir, writeFile } from '../helpers.ts';

const PIPELINE = `name: e2e
track: image
seed: 11
data: { root: data }
validation: { scheme: kfold, folds: 4 }
features:
  - { id: meta, kind: metadata }
  - { id: time, kind: time }
  - { id: user, kind: user, params: { vectors: false } }
  - { id: text, kind: text-stats }
  - { id: tfidf, kind: tfidf-svd, params: { components: 8 } }
  - { id: userstats, kind: user-label-stats }
models:
  - { id: ridge, kind: ridge, params: { alpha: 3 } }
  - { id: ridge_meta, kind: ridge, features: [meta, time] }
submission:
  external_data: { used: "false", details: "none" }
`;

let dir: string;
let file: string;

beforeAll(async () => {
  dir = tmpDir('run');
  await synthImage({ out: path.join(dir, 'data'), posts: 900, seed: 5 });
  file = writeFile(path.join(dir, 'e2e.yaml'), PIPELINE);
});

describe('runPipeline end to end', () => {
  it('learns the planted signal, writes the run folder and a valid zip; same seed gives the same bytes', async () => {
    const a = await runPipeline(file, { workDir: path.join(dir, 'a'), quiet: true, timestamp: 'first' });
    const b = await runPipeline(file, { workDir: path.join(dir, 'b'), quiet: true, timestamp: 'first' });
    expect(a.metrics.final.src).toBeGreaterThan(0.55);
    expect(a.metrics.ridge.folds).toHaveLength(4);
    // The full feature set beats metadata and time alone: user and text signal are learned.
    expect(a.metrics.ridge.src!).toBeGreaterThan(a.metrics.ridge_meta.src! + 0.1);
    for (const f of ['run.json', 'metrics.json', 'log.jsonl', 'ridge.oof.csv', 'ridge.test.csv', 'ridge.importance.csv', 'final.oof.csv', 'submission.json'])
      expect(fs.existsSync(path.join(a.runDir, f)), f).toBe(true);
    const oof = fs.readFileSync(path.join(a.runDir, 'ridge.oof.csv'), 'utf8').trim().split('\n');
    expect(oof).toHaveLength(a.table.nTrain + 1);
    // After the feature stage only the columns later stages read are kept (vectors, texts went).
    expect(Object.keys(a.table.columns)).toEqual(['postdate']);
    const table = await readDataset(path.join(dir, 'data'), { splits: ['test'] });
    expect(await validateSubmissionFile(a.zipPath, 'image', table.pid)).toEqual([]);
    expect(fs.readFileSync(a.zipPath).equals(fs.readFileSync(b.zipPath))).toBe(true);
    const c = await runPipeline(file, { workDir: path.join(dir, 'a'), quiet: true, seed: 12, timestamp: 'other' });
    expect(fs.readFileSync(c.zipPath).equals(fs.readFileSync(a.zipPath))).toBe(false);
  });

  it('a missing data folder is a clear error naming the pipeline line and the folder', async () => {
    const bad = writeFile(path.join(dir, 'bad.yaml'), PIPELINE.replace('root: data', 'root: nowhere'));
    await expect(runPipeline(bad, { workDir: dir, quiet: true })).rejects.toThrow(/bad\.yaml:4:\d+ data\.root: folder not found: .*nowhere/);
  });

  it('a single-fold scheme refuses pseudo-label selection by fold-model agreement', async () => {
    const set = ['validation.scheme=time', 'pseudo_labels.rounds=1', 'pseudo_labels.fraction=0.5'];
    await expect(runPipeline(file, { workDir: dir, quiet: true, set })).rejects.toThrow(/pseudo_labels\.fraction: 0\.5 .*single fold model; use fraction: 1/);
  });
});
