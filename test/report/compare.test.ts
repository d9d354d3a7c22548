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
    expect(board.metric).toBe('src');
    expect(board.rows.map((r) => r.rank)).toEqual([1, 2]);
    expect(board.rows[0].run).toBe(winner);
    expect(board.rows[0].final.src).toBe(Math.max(...src));
    expect(board.modelIds).toEqual(['ridge', 'gbdt']);
    expect(board.finalMetrics[0]).toBe('src');
  });

  it('lower-is-better metrics rank ascending; mixed metrics keep the given order', () => {
    const runs = [a, b].map(readRunFolder);
    for (const r of runs) r.mainMetric = 'mae';
    const board = leaderboard(runs);
    expect(board.rows[0].final.mae).toBeLessThanOrEqual(board.rows[1].final.mae);
    runs[1].mainMetric = 'src';
    const mixed = leaderboard(runs);
    expect(mixed.metric).toBeNull();
    expect(mixed.rows.map((r) => r.run)).toEqual(['20260101-100000', '20260101-110000']);
    expect(formatLeaderboard(mixed)).toContain('different main metrics');
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
    expect(html).toMatch(/<figure class="plot" id="plot-leaderboard"[^>]*><svg[\s\S]*role-mark/);
    expect(html).not.toMatch(/<script/);
    expect(r.text.split('\n').filter((l) => /^\d\s+demo\s+2026/.test(l))).toHaveLength(2);
  });

  it('the CLI prints both runs of two seeds', () => {
    const out = execFileSync(process.execPath, ['bin/smp.js', 'compare', a, b], { encoding: 'utf8', cwd: path.resolve(import.meta.dirname, '../..') });
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^#\s+pipeline\s+run\s+seed\s+final SRC\s+final MAE .*ridge SRC\s+gbdt SRC$/);
    const rows = lines.filter((l) => /^\d\s/.test(l));
    expect(rows).toHaveLength(2);
    expect(rows.map((l) => l.split(/\s+/)[3]).sort()).toEqual(['1', '2']);
  });
});
