/**
 * Preflight (checks before any feature work), `smp run --dry-run`, strict data through the
 * CLI and a clean interruption. CLI spawns cost seconds of start-up each, so there are few.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { synthImage } from '../../core/data/synth-image.ts';
import { UserError } from '../../core/errors.ts';
import { planRun, runPipeline } from '../../core/pipeline/run.ts';
import { prepareLabels } from '../../core/pipeline/preflight.ts';
import { RunLog } from '../../core/report/run-log.ts';
import type { Table } from '../../core/data/table.ts';
import type { Pipeline } from '../../core/pipeline/schema.ts';
import { cutVideoCopy, REPO, tmpDir, writeFile } from '../helpers.ts';

const SMP = path.join(REPO, 'bin', 'smp.js');
function smp(cwd: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [SMP, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
}
/** Files under dir (recursive), relative. */
function filesUnder(dir: string): string[] {
  return fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()) : [];
}

let root: string;
let data: string;
beforeAll(async () => {
  root = tmpDir('preflight');
  data = path.join(root, 'data');
  await synthImage({ out: data, posts: 240, seed: 4 });
});

describe('preflight: fails before any feature block', () => {
  it('image-track with an empty models folder names both missing models, the folder and the fetch commands', () => {
    const work = path.join(root, 'models-work');
    const empty = path.join(root, 'no-models');
    fs.mkdirSync(work, { recursive: true });
    fs.mkdirSync(empty, { recursive: true });
    const r = smp(work, ['run', path.join(REPO, 'pipelines', 'image-track.yaml'), '--data', data], { SMP_MODELS_DIR: empty });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`error: 2 models are missing from the models folder ${empty}:`);
    expect(r.stderr).toContain(`model "Xenova/clip-vit-base-patch32" is not in the models folder ${empty}`);
    expect(r.stderr).toContain('(needed by clipimg, cliptitle, cliptags)');
    expect(r.stderr).toContain(`model "Xenova/all-MiniLM-L6-v2" is not in the models folder ${empty}`);
    expect(r.stderr).toContain(`smp models fetch Xenova/all-MiniLM-L6-v2 --dir "${empty}"`);
    expect(r.stderr).not.toContain('[features]'); // image-stats (the first block) never started
    expect(filesUnder(path.join(work, '.cache'))).toEqual([]);
  });

  it('demo.yaml --set validation.metric=auc names validation.metric and the argument', () => {
    const r = smp(root, ['run', path.join(REPO, 'pipelines', 'demo.yaml'), '--set', 'validation.metric=auc']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('error: --set validation.metric=auc validation.metric: "auc" does not fit task: regression; use one of src, mae, mape, rmse');
  });

  it('SMP-Video with its posts file cut to 1,500 lines: smp run fails naming the file', () => {
    const copy = cutVideoCopy(path.join(root, 'video-cut'), 1500);
    const r = smp(root, ['run', path.join(REPO, 'pipelines', 'video-track.yaml'), '--data', copy]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `error: ${path.join(copy, 'train', 'SMP-Video_anonymized_popularity_train.jsonl')}: 1700 record(s) have a pid that is not in ${path.join(copy, 'train', 'SMP-Video_anonymized_posts_train.jsonl')}`,
    );
    expect(r.stderr).not.toContain('[features]');
  });
});

describe('binary labels', () => {
  const table = (labels: number[]) => ({ root: 'd', nTrain: labels.length, label: Float64Array.from([...labels, NaN]) }) as unknown as Table;
  const pipeline = (binarize?: Pipeline['labels']['binarize']) => ({ task: 'binary', labels: { binarize } }) as unknown as Pipeline;
  const locate = () => 'p.yaml:3:7';
  const log = new RunLog({ quiet: true });

  it('labels other than 0/1 are an error suggesting labels.binarize', () => {
    const t = table([0, 13, 2.5, 1]);
    expect(() => prepareLabels(t, pipeline(), locate, log)).toThrow(UserError);
    expect(() => prepareLabels(t, pipeline(), locate, log)).toThrow(/^p\.yaml:3:7 task: binary needs 0\/1 train labels, but d has labels such as 13, 2\.5 \(range 0 to 13\)\. .*binarize: \{ threshold: x \}.*binarize: \{ quantile: q \}/);
  });

  it('threshold and quantile binarize the train labels in place (label 1 above)', () => {
    const t = table([0, 13, 2.5, 1, 5]);
    prepareLabels(t, pipeline({ threshold: 2.5 }), locate, log);
    expect(Array.from(t.label.subarray(0, 5))).toEqual([0, 1, 0, 0, 1]);
    expect(Number.isNaN(t.label[5])).toBe(true); // test rows untouched
    const q = table([4, 1, 3, 2]);
    prepareLabels(q, pipeline({ quantile: 0.5 }), locate, log);
    expect(Array.from(q.label.subarray(0, 4))).toEqual([1, 0, 1, 0]);
    expect(() => prepareLabels(table([1, 2]), pipeline({ threshold: 9 }), locate, log)).toThrow(/every train label becomes 0/);
  });

  it('0/1 labels pass unchanged; one class only is an error', () => {
    const t = table([0, 1, 1]);
    prepareLabels(t, pipeline(), locate, log);
    expect(Array.from(t.label.subarray(0, 3))).toEqual([0, 1, 1]);
    expect(() => prepareLabels(table([1, 1]), pipeline(), locate, log)).toThrow(/needs both classes/);
  });
});

describe('smp run --dry-run', () => {
  it('prints the plan without computing; after a run the same blocks show as cached with their columns', async () => {
    const work = path.join(root, 'dry');
    const file = writeFile(
      path.join(work, 'p.yaml'),
      `name: dry
track: image
data: { root: data }
validation: { folds: 3 }
features:
  - { id: meta, kind: metadata }
  - { id: time, kind: time }
  - { id: stats, kind: user-label-stats }
models:
  - { id: ridge, kind: ridge, features: [meta, time, stats] }
  - { id: ridge2, kind: ridge, features: [time] }
`,
    );
    const before = await planRun(file, { workDir: work, data });
    expect(before).toMatch(/^ {2}meta +metadata +to compute {2}key [0-9a-f]{24}$/m);
    expect(before).toMatch(/^ {2}stats +user-label-stats +label-aware, fitted in each fold/m);
    expect(before).toContain('validation: kfold, 3 folds');
    expect(before).toContain('2 of 3 feature blocks to compute; nothing was computed (dry run)');
    expect(filesUnder(path.join(work, '.cache'))).toEqual([]);
    expect(fs.existsSync(path.join(work, 'runs'))).toBe(false);

    const r = await runPipeline(file, { workDir: work, data, quiet: true });
    const after = await planRun(file, { workDir: work, data });
    expect(r.metrics.ridge2.src).toBeTypeOf('number');
    const timeCols = after.match(/^ {2}time +time +cached, (\d+) columns/m);
    expect(timeCols).not.toBeNull();
    const train = 180; // 240 posts, the newest 25% are test
    expect(after).toContain(`ridge2           ridge    blocks time; ~${(train * 2) / 3} rows x ${timeCols![1]} columns per fold`);
    expect(after).toMatch(/ridge +ridge +blocks meta, time, stats; ~120 rows x \d+\+ columns \(not yet known: stats\) per fold/);
    expect(after).toContain('0 of 3 feature blocks to compute');
  });
});

describe('interruption', () => {
  it('SIGINT during a run: names the stage, says a rerun resumes from the cache, exits 130, leaves no temp file', async () => {
    const work = path.join(root, 'sigint');
    fs.mkdirSync(work, { recursive: true });
    const child = spawn(process.execPath, [SMP, 'run', path.join(REPO, 'pipelines', 'demo.yaml'), '--data', data], { cwd: work });
    let stderr = '';
    let sent = false;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      // the first computed block: interrupt while the feature stage runs
      if (!sent && /\[features\] \w+ \(/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(sent).toBe(true);
    expect(code).toBe(130);
    expect(stderr).toMatch(/\[interrupted\] SIGINT during stage "features" \(last: .+\)\. .*rerun the same command to resume/);
    expect(filesUnder(work).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // every cache entry that exists is complete: its meta.json is written last
    const blocks = path.join(work, '.cache', 'blocks');
    for (const key of fs.existsSync(blocks) ? fs.readdirSync(blocks) : []) {
      if (fs.existsSync(path.join(blocks, key, 'meta.json'))) expect(fs.existsSync(path.join(blocks, key, 'block.npy'))).toBe(true);
    }
  });

  // A fit's loop is synchronous: without pauses a signal would wait for the whole fit (here: a
  // million rounds or epochs, far past the test's time limit).
  for (const [kind, params] of [
    ['gbdt', '{ n_estimators: 1000000, num_threads: 1, early_stopping_rounds: 0 }'],
    ['mlp', '{ epochs: 1000000, patience: 0, hidden: [8], num_threads: 1 }'],
  ]) {
    it(`SIGTERM while a one-thread ${kind} fits: seen at once, exits 143`, async () => {
      const work = path.join(root, 'sigterm'); // shared: the second run finds the blocks cached
      fs.mkdirSync(work, { recursive: true });
      const set = [`models=[{ id: slow, kind: ${kind}, params: ${params} }]`, 'ensemble.method=best'];
      const child = spawn(process.execPath, [SMP, 'run', path.join(REPO, 'pipelines', 'demo.yaml'), '--data', data, ...set.flatMap((s) => ['--set', s])], { cwd: work });
      onTestFinished(() => void child.kill('SIGKILL')); // a failed test leaves no fit running
      let stderr = '';
      let sent = false;
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        // the learner starts right after the validation line
        if (!sent && /\[validation\]/.test(stderr)) {
          sent = true;
          setTimeout(() => child.kill('SIGTERM'), 1500);
        }
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      expect(sent).toBe(true);
      expect(code).toBe(143);
      expect(stderr).toMatch(/\[interrupted\] SIGTERM during stage/);
    }, 60_000);
  }
});
