import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeReport, buildReportHtml } from '../../core/report/write-report.ts';
import { readRunFolder, splitCsvLine } from '../../core/report/run-folder.ts';
import { readFeatureColumns, cacheDirOf } from '../../core/report/feature-columns.ts';
import { writeFakeRun } from './fake-run.ts';
import { baselineScores, foldSpread } from '../../core/report/explain.ts';

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'smp-report-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const figures = (html: string) => [...html.matchAll(/<figure class="plot[^"]*" id="plot-([^"]+)"[^>]*>([\s\S]*?)<\/figure>/g)].map((m) => ({ name: m[1], body: m[2] }));

describe('writeReport', () => {
  it('writes a self-contained report.html with every regression plot rendered', async () => {
    const dir = writeFakeRun({ work: path.join(work, 'a') });
    const file = await writeReport(dir);
    expect(file).toBe(path.join(dir, 'report.html'));
    const html = fs.readFileSync(file, 'utf8');
    // self-contained: no scripts, no external resources
    expect(html).not.toMatch(/<script|<link[^>]+href="(?!data:)|src="http|@import|url\(http/i);
    const figs = figures(html);
    expect(figs.map((f) => f.name)).toEqual(['pred-vs-actual', 'residuals', 'distribution', 'importance-ridge', 'importance-gbdt', 'correlation', 'fold-spread']);
    for (const f of figs) {
      expect(f.body, f.name).toMatch(/^<svg[\s\S]*<\/svg>/);
      expect(f.body, f.name).toMatch(/role-mark/);
    }
    expect(html).not.toContain('plot failed');
    // ids are unique across the inline SVGs
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shows the run summary, every fold of every learner, ensemble weights and pseudo-label rounds', async () => {
    const dir = writeFakeRun({ work: path.join(work, 'b'), seed: 11 });
    const html = await buildReportHtml(dir);
    const metrics = JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8'));
    expect(html).toContain('<dt>seed</dt><dd>11</dd>');
    expect(html).toContain('data/sample: 600 train, 200 test posts');
    expect(html).toContain('12.5 s');
    const cv = html.match(/<table class="cv">([\s\S]*?)<\/table>/)![1];
    // 2 learners x (5 folds + mean ± std + overall) + baseline (mean ± std + overall) + final
    expect(cv.match(/<tr/g)!.length - 1).toBe(17);
    expect(cv).toContain(`<td class="num">${metrics.gbdt.folds[3].src.toFixed(4)}</td>`);
    expect(cv).toContain(`<td class="num">${metrics.final.src.toFixed(4)}</td>`);
    // best learner by SRC highlighted
    const best = metrics.gbdt.src > metrics.ridge.src ? 'gbdt' : 'ridge';
    expect(cv).toMatch(new RegExp(`<tr class="total best"><td>${best}</td>`));
    // ensemble as the runner writes it: per-group weights, groups with scores, post-processing
    const weights = html.match(/<table class="weights">([\s\S]*?)<\/table>/)![1];
    expect(weights).toMatch(/<td>final<\/td><td>gbdt<\/td><td class="num">0\.7000[\s\S]*<td>final<\/td><td>ridge<\/td><td class="num">0\.3000/);
    expect(html).toContain('method: <b>blend</b>');
    expect(html.match(/<table class="groups">([\s\S]*?)<\/table>/)![1]).toContain('ridge, gbdt');
    expect(html).toContain('<dt>scale</dt><dd>1.0200</dd>');
    const pseudo = html.match(/<table class="pseudo">([\s\S]*?)<\/table>/)![1];
    expect(pseudo).toMatch(/<tr class="best"><td>1<\/td><td class="num">0\.6300<\/td><td>0\.0200 ± 0\.0050<\/td><td>yes<\/td>/);
    expect(pseudo).toContain('<th>SRC gain over round 0 (mean ± s.e. over folds)</th>');
    expect(html).toContain('final.oof.csv / final.test.csv');
  });

  it('explains itself: legend, baseline and mean ± std rows, importance shares per block with the method', async () => {
    const dir = writeFakeRun({ work: path.join(work, 'x'), seed: 5 });
    const html = await buildReportHtml(dir);
    const run = readRunFolder(dir);
    const cv = html.match(/<table class="cv">([\s\S]*?)<\/table>/)![1];
    expect(cv).toContain('<th>SRC ↑</th><th>MAE ↓</th><th>MAPE ↓</th><th>RMSE ↓</th>');
    // baseline: SRC undefined, MAE of the per-fold median
    const base = baselineScores(run.final.oof!, ['mae']);
    expect(cv).toContain(`<tr class="baseline"><td>baseline</td><td>all (OOF)</td><td class="num">—</td><td class="num">${base.scores.mae.toFixed(4)}</td>`);
    const s = foldSpread(run.models[1].folds, 'src');
    expect(cv).toContain(`<tr class="spread"><td>gbdt</td><td>mean ± std</td><td>${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}</td>`);
    const leg = html.match(/<dl class="legend">([\s\S]*?)<\/dl>/)![1];
    expect(leg).toContain('<dt>MAE</dt><dd>mean absolute error, in label units; lower is better</dd>');
    expect(leg).toContain('<dt>baseline</dt>');
    // block shares: each learner's column sums to 1, method named
    const blocks = html.match(/<table class="blocks">([\s\S]*?)<\/table>/)![1];
    const cells = [...blocks.matchAll(/<tr><td>(\w+)<\/td><td class="num">([\d.]+)<\/td><td class="num">([\d.]+)<\/td><\/tr>/g)];
    expect(cells.map((c) => c[1])).toEqual(['meta', 'userstats', 'time']); // by the largest share any learner gives
    for (const col of [2, 3]) expect(cells.reduce((t, c) => t + Number(c[col]), 0)).toBeCloseTo(1, 3);
    expect(html).toContain('<dt>gbdt</dt><dd>gbdt importance</dd>');
    expect(html).toContain('<dt>post-processing applied</dt><dd>scale 1.0200</dd>');
    expect(html).toContain('(fingerprint f00dfeed0000000000000000)');
  });

  it('labels an optimistic CV and shows per-fold post-processing, as the runner records them', async () => {
    const dir = writeFakeRun({ work: path.join(work, 'o'), nTrain: 100, nTest: 20, cache: false });
    const mf = path.join(dir, 'metrics.json');
    const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
    expect(await buildReportHtml(dir)).not.toContain('optimistic');
    m.validation = { scheme: 'kfold', early_stopping: 'fold', optimistic: true, note: 'optimistic CV: gbdt chose its rounds on the validation rows' };
    m.ensemble.postprocess_folds = [{ scale: 1.01 }, { scale: 1.03 }];
    fs.writeFileSync(mf, JSON.stringify(m));
    const html = await buildReportHtml(dir);
    // in the run summary and above the CV table
    expect(html.match(/<p class="error">optimistic CV: gbdt chose its rounds on the validation rows<\/p>/g)).toHaveLength(2);
    expect(html.match(/<table class="pp-folds">([\s\S]*?)<\/table>/)![1]).toContain('<tr><td>fold 1</td><td class="num">1.0300</td></tr>');
    expect(readRunFolder(dir).models.map((x) => x.id)).toEqual(['ridge', 'gbdt']); // validation is no learner
  });

  it('also shows flat {learner: weight} ensemble weights', async () => {
    const dir = writeFakeRun({ work: path.join(work, 'f'), nTrain: 100, nTest: 20, cache: false });
    const mf = path.join(dir, 'metrics.json');
    const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
    m.ensemble = { weights: { ridge: 0.25, gbdt: 0.75 }, levels: 2 };
    fs.writeFileSync(mf, JSON.stringify(m));
    const html = await buildReportHtml(dir);
    expect(html.match(/<table class="weights">([\s\S]*?)<\/table>/)![1]).toMatch(/gbdt<\/td><td class="num">0\.7500[\s\S]*ridge<\/td><td class="num">0\.2500/);
    expect(html).toContain('&quot;levels&quot;: 2');
  });

  it('falls back to the best learner without final.*.csv and to OOF correlations without the cache', async () => {
    const dir = writeFakeRun({ work: path.join(work, 'c'), final: false, cache: false, extras: false });
    const run = readRunFolder(dir);
    const best = run.models[0].scores.src > run.models[1].scores.src ? run.models[0] : run.models[1];
    expect(run.final.source).toBe(best.id);
    expect(run.final.oof!.prediction).toEqual(best.oof!.prediction);
    expect(run.ensemble).toBeNull();
    expect(run.pseudoRounds).toEqual([]);
    const html = await buildReportHtml(dir);
    expect(html).toContain(`best learner: ${best.id}`);
    expect(html).toContain('OOF predictions instead');
    expect(html).toContain('ridge (OOF)');
    expect(html).not.toContain('id="pseudo"');
  });

  it('correlates the cached feature columns named in importance.csv with the label', async () => {
    const dir = writeFakeRun({ work: path.join(work, 'd') });
    const run = readRunFolder(dir);
    const rows = [0, 5, 599];
    const cols = readFeatureColumns(cacheDirOf(dir), run.info.feature_keys!, ['meta.likes', 'time.hour', 'userstats.mean', 'nope.x'], rows);
    // userstats is label-aware (not cached), nope has no key
    expect([...cols.keys()].sort()).toEqual(['meta.likes', 'time.hour']);
    expect(cols.get('time.hour')!.every((h) => Number.isInteger(h) && h >= 0 && h < 24)).toBe(true);
    const html = await buildReportHtml(dir);
    const corr = figures(html).find((f) => f.name === 'correlation')!.body;
    expect(corr).toContain('meta.likes');
    expect(corr).toContain('time.hour');
    // likes drives the label: strong positive r in the label row
    const r = Number(/aria-label="b: meta\.likes; a: label; r: ([\d.]+)"/.exec(corr)![1]);
    expect(r).toBeGreaterThan(0.5);
  });

  it('binary runs get a ROC curve and a confusion matrix instead of regression plots', async () => {
    const dir = writeFakeRun({ work: path.join(work, 'e'), task: 'binary' });
    const html = await buildReportHtml(dir);
    const names = figures(html).map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['roc', 'confusion', 'distribution', 'fold-spread']));
    expect(names).not.toContain('pred-vs-actual');
    expect(names).not.toContain('residuals');
    const conf = figures(html).find((f) => f.name === 'confusion')!.body;
    const counts = [...conf.matchAll(/aria-roledescription="text mark"[^>]*>(\d+)<\/text>/g)].map((m) => Number(m[1]));
    // validated rows only: 600 minus every 17th row
    expect(counts.reduce((s, x) => s + x, 0)).toBe(600 - Math.floor(600 / 17));
    expect(html).toMatch(/final CV AUC ↑ 0\.\d{4}/);
  });

  it('PNG export: plots/<name>.png rendered from each plot SVG when @resvg/resvg-js loads, else skipped with a note', async () => {
    // The package is optional (not a dependency): stand-ins for it present and absent, each
    // with a fresh module graph since loadPng keeps the first answer.
    const reportWith = async (factory: () => object, runDir: string) => {
      vi.resetModules();
      vi.doMock('@resvg/resvg-js', factory);
      try {
        const { writeReport: write } = await import('../../core/report/write-report.ts');
        return fs.readFileSync(await write(runDir, { png: true }), 'utf8');
      } finally {
        vi.doUnmock('@resvg/resvg-js');
      }
    };
    const rendered: string[] = [];
    class Resvg {
      constructor(private readonly svg: string) {}
      render() {
        rendered.push(this.svg);
        return { asPng: () => new TextEncoder().encode(`PNG ${this.svg.length}`) };
      }
    }
    const dir = writeFakeRun({ work: path.join(work, 'png'), nTrain: 100, nTest: 20, cache: false });
    const html = await reportWith(() => ({ Resvg }), dir);
    const names = figures(html).map((f) => f.name);
    expect(fs.readdirSync(path.join(dir, 'plots')).sort()).toEqual(names.map((n) => `${n}.png`).sort());
    expect(rendered).toHaveLength(names.length);
    expect(rendered.every((svg) => svg.startsWith('<svg'))).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'plots', 'pred-vs-actual.png'), 'utf8')).toMatch(/^PNG \d+$/);
    expect(html).not.toContain('PNG export skipped');

    const bare = writeFakeRun({ work: path.join(work, 'png-absent'), nTrain: 100, nTest: 20, cache: false });
    const html2 = await reportWith(() => {
      throw new Error("Cannot find package '@resvg/resvg-js'");
    }, bare);
    expect(fs.existsSync(path.join(bare, 'plots'))).toBe(false);
    expect(html2).toContain('PNG export skipped: @resvg/resvg-js is not installed');
  });

  it('fails with the folder name when run.json is missing', async () => {
    fs.mkdirSync(path.join(work, 'empty'), { recursive: true });
    await expect(writeReport(path.join(work, 'empty'))).rejects.toThrow(/empty: not a run folder \(no run\.json\)/);
  });

  it('reads quoted CSV fields', () => {
    expect(splitCsvLine('a,"b,c","d""e",')).toEqual(['a', 'b,c', 'd"e', '']);
  });
});
