import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareRuns, expandRunDirs, leaderboard, formatLeaderboard } from '../../core/report/compare.ts';
import { readRunFolder } from '../../core/report/run-folder.ts';
import { writeFakeRun } from './fake-run.ts';

let work: string;
let a: string;
let b: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'smp-compare-'));
  a = writeFakeRun({ work, name: 'demo', ts: '20260101-100000', seed: 1, nTrain: 200, nTest: 50, cache: false });
  b = writeFakeRun({ work, name: 'demo', ts: '20260101-110000', seed: 2, nTrain: 200, nTest: 50, cache: false });
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('smp compare', () => {
  it('ranks runs by the final main metric, best first, with every learner', () => {
    const board = leaderboard([a, b].map(readRunFolder));
    const src = [a, b].map((d) => JSON.parse(fs.readFileSync(path.join(d, 'metrics.json'), 'utf8')).final.src as number);
    expect(src[0]).not.toBe(src[1]);
    const winner = src[0] > src[1] ? '20260101-100000' : '20260101-110000';
    expect(board.groups).toHaveLength(1);
    const [g] = board.groups;
    expect(g.metric).toBe('src');
    expect(g.dataset).toEqual({ root: 'data/sample', fingerprint: 'f00dfeed0000000000000000', train: 200, test: 50 });
    expect(g.rows.map((r) => r.rank)).toEqual([1, 2]);
    expect(g.rows[0].run).toBe(winner);
    expect(g.rows[0].final.src).toBe(Math.max(...src));
    expect(g.modelIds).toEqual(['ridge', 'gbdt']);
    expect(g.finalMetrics[0]).toBe('src');
  });

  it('lower-is-better metrics rank ascending; different main metrics are separate groups', () => {
    const runs = [a, b].map(readRunFolder);
    for (const r of runs) r.mainMetric = 'mae';
    const [g] = leaderboard(runs).groups;
    expect(g.rows[0].final.mae).toBeLessThan(g.rows[1].final.mae);
    expect(formatLeaderboard(leaderboard(runs))).toContain('ranked by final CV MAE ↓ (lower is better)');
    runs[1].mainMetric = 'src';
    const mixed = leaderboard(runs);
    expect(mixed.groups.map((x) => [x.metric, x.rows.map((r) => [r.rank, r.run])])).toEqual([
      ['mae', [[1, '20260101-100000']]],
      ['src', [[1, '20260101-110000']]],
    ]);
    expect(formatLeaderboard(mixed)).toContain('never ranked against each other');
  });

  it('groups runs by dataset and never ranks two datasets together', () => {
    const w = fs.mkdtempSync(path.join(os.tmpdir(), 'smp-compare-ds-'));
    try {
      // the best SRC sits on the other dataset: a shared ranking would put it first
      const other = writeFakeRun({ work: w, name: 'video', ts: '20260102-100000', seed: 3, nTrain: 200, nTest: 50, cache: false, dataRoot: '/data/video', fingerprint: 'beef00000000000000000000' });
      const mf = path.join(other, 'metrics.json');
      const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
      m.final.src = 0.99;
      fs.writeFileSync(mf, JSON.stringify(m));
      // an older run without a fingerprint is grouped by its folder, apart from both
      const old = writeFakeRun({ work: w, name: 'old', ts: '20250101-100000', seed: 4, nTrain: 200, nTest: 50, cache: false, fingerprint: null });
      const board = leaderboard([a, other, b, old].map(readRunFolder));
      expect(board.groups.map((g) => [g.dataset.fingerprint, g.rows.map((r) => r.pipeline)])).toEqual([
        ['f00dfeed0000000000000000', ['demo', 'demo']],
        ['beef00000000000000000000', ['video']],
        [null, ['old']],
      ]);
      // every group ranks from 1; the 0.99 run is first only in its own group
      expect(board.groups.map((g) => g.rows.map((r) => r.rank))).toEqual([[1, 2], [1], [1]]);
      const text = formatLeaderboard(board);
      expect(text).toContain('dataset data/sample (fingerprint f00dfeed0000000000000000, 200 train / 50 test posts), regression, ranked by final CV SRC ↑ (higher is better)');
      expect(text).toContain('dataset /data/video (fingerprint beef00000000000000000000, 200 train / 50 test posts)');
      expect(text).toContain('dataset data/sample (no fingerprint recorded: grouped by folder');
      expect(text).toContain('3 groups: runs on different datasets');
      // the sample runs' table comes before the video title: no shared table
      expect(text.indexOf('20260102-100000')).toBeGreaterThan(text.indexOf('dataset /data/video'));
    } finally {
      fs.rmSync(w, { recursive: true, force: true });
    }
  });

  it('binary runs show their own metrics, apart from regression runs', () => {
    const w = fs.mkdtempSync(path.join(os.tmpdir(), 'smp-compare-bin-'));
    try {
      const bin = writeFakeRun({ work: w, name: 'artwork', ts: '20260103-100000', task: 'binary', nTrain: 200, nTest: 50, cache: false });
      const board = leaderboard([a, bin].map(readRunFolder));
      expect(board.groups.map((g) => [g.task, g.metric])).toEqual([
        ['regression', 'src'],
        ['binary', 'auc'],
      ]);
      const g = board.groups[1];
      const metrics = JSON.parse(fs.readFileSync(path.join(bin, 'metrics.json'), 'utf8'));
      expect(g.finalMetrics).toEqual(['auc', 'accuracy', 'precision', 'recall', 'f1', 'src']);
      expect(g.rows[0].models).toEqual({ ridge: metrics.ridge.auc, gbdt: metrics.gbdt.auc });
      const text = formatLeaderboard(board);
      const table = text.slice(text.indexOf('binary, ranked by final CV AUC ↑'));
      expect(table.split('\n')[1]).toMatch(/^#\s+pipeline\s+run\s+seed\s+final AUC ↑\s+final ACCURACY ↑ .*ridge AUC ↑\s+gbdt AUC ↑$/);
      expect(table).toContain(metrics.gbdt.auc.toFixed(4));
      expect(table).not.toContain('MAE');
    } finally {
      fs.rmSync(w, { recursive: true, force: true });
    }
  });

  it('expands runs/<pipeline> and runs/ folders, and names a folder without runs', () => {
    expect(expandRunDirs([path.join(work, 'runs', 'demo')])).toEqual([a, b]);
    expect(expandRunDirs([path.join(work, 'runs')])).toEqual([a, b]);
    expect(expandRunDirs([a, path.join(work, 'runs', 'demo')])).toEqual([a, b]);
    fs.mkdirSync(path.join(work, 'nothing'), { recursive: true });
    expect(() => expandRunDirs([path.join(work, 'nothing')])).toThrow(/nothing: no run folders here/);
  });

  it('writes an HTML leaderboard with both runs and a rendered plot', async () => {
    const out = path.join(work, 'board.html');
    const r = await compareRuns([a, b], { html: out });
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toContain('20260101-100000');
    expect(html).toContain('20260101-110000');
    expect(html).toMatch(/<figure class="plot" id="plot-leaderboard-1"[^>]*><svg[\s\S]*role-mark/);
    expect(html).toContain('fingerprint f00dfeed0000000000000000');
    expect(html).not.toMatch(/<script/);
    expect(r.text.split('\n').filter((l) => /^\d\s+demo\s+2026/.test(l))).toHaveLength(2);
  });

  it('the CLI prints both runs of two seeds', () => {
    const out = execFileSync(process.execPath, ['bin/smp.js', 'compare', a, b], { encoding: 'utf8', cwd: path.resolve(import.meta.dirname, '../..') });
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^dataset .*data\/sample \(fingerprint f00dfeed0000000000000000, 200 train \/ 50 test posts\), regression, ranked by final CV SRC ↑/);
    expect(lines[1]).toMatch(/^#\s+pipeline\s+run\s+seed\s+final SRC ↑\s+final MAE ↓ .*ridge SRC ↑\s+gbdt SRC ↑$/);
    const rows = lines.filter((l) => /^\d\s/.test(l));
    expect(rows).toHaveLength(2);
    expect(rows.map((l) => l.split(/\s+/)[3]).sort()).toEqual(['1', '2']);
  });
});
