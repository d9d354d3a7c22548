/**
 * @file `writeReport(runDir)`: reads a run folder and writes `report.html` beside its files, a
 * self-contained page (inline CSS and SVG, no scripts, nothing fetched) that opens offline in
 * any browser: run summary, CV table per learner and fold, ensemble weights, pseudo-label
 * rounds, and plots rendered with vega-lite + vega (renderer none):
 *   regression: predicted vs actual (symlog), residuals vs actual, train label vs predicted
 *               test distribution;
 *   binary:     ROC curves, confusion matrix, predicted probability by class and on test;
 *   both:       top-30 feature importance per learner, correlation heatmap of the top features
 *               with the label (feature values from the block cache, else learners' OOF
 *               predictions), fold score spread.
 * A run with several targets gets the CV, ensemble, pseudo-label and plot sections once per
 * target (ids and plot names end in -<target>) and a target-vs-target plot of the final
 * predictions for each pair of targets.
 * A plot that fails to render becomes a figure with the error (and a warning on stderr); the
 * rest of the report is still written. `{ png: true }` also writes `plots/<name>.png` when the
 * optional @resvg/resvg-js is installed, and notes in the report that it skipped them if not.
 *
 * @example
 *   const file = await writeReport('runs/demo/20260101-120000'); // -> .../report.html
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../cache/atomic.ts';
import { dl, esc, figure, fmt, fmtMetric, htmlPage, section, table } from './html.ts';
import { blockShares, cvRows, importanceShares, legend, metricHeader, postprocessItems, runMetrics, validationText } from './explain.ts';
import { cvWarnings, postprocessText } from './summary.ts';
import { beats, readRunFolder, readRunTarget, type ModelRun, type RunFolder } from './run-folder.ts';
import { cacheDirOf, readFeatureColumns } from './feature-columns.ts';
import { renderSvg, type VlSpec } from './svg.ts';
import { loadPng } from './png.ts';
import { sampleIndices } from './stats.ts';
import { predVsActualSpec } from './plots/pred-vs-actual.ts';
import { residualsSpec } from './plots/residuals.ts';
import { distributionSpec } from './plots/distribution.ts';
import { importanceSpec } from './plots/importance.ts';
import { correlationSpec } from './plots/correlation.ts';
import { foldSpreadSpec } from './plots/fold-spread.ts';
import { rocSpec } from './plots/roc.ts';
import { confusionSpec } from './plots/confusion.ts';
import { targetVsTargetSpec } from './plots/target-vs-target.ts';
import { pearson } from '../eval/metrics.ts';

export interface PlotEntry {
  name: string;
  spec: VlSpec;
  caption: string;
}

const TOP_CORR = 12;
const CORR_ROWS = 20000;

function summarySection(run: RunFolder, views: readonly RunFolder[]): string {
  const i = run.info;
  const c = i.config ?? {};
  // a multi-target run names each target's line
  const named = (v: RunFolder, text: string) => (v.target === null ? text : `${v.target}: ${text}`);
  const items: [string, unknown][] = [
    ['pipeline', `${run.pipeline}${i.pipeline_file ? ` (${i.pipeline_file})` : ''}`],
    ['track / task', `${c.track ?? '?'} / ${run.task}${run.targets.length ? `, ${run.targets.length} targets: ${run.targets.join(', ')}` : ''}`],
    ['seed', i.seed],
    ['data', `${i.data?.root ?? '?'}: ${fmt(i.data?.train)} train, ${fmt(i.data?.test)} test posts${i.data?.fingerprint ? ` (fingerprint ${i.data.fingerprint})` : ''}`],
    ['validation', validationText(run)],
    ['started', i.started],
    ['time', typeof i.seconds === 'number' ? `${i.seconds.toFixed(1)} s` : undefined],
    ['features', Object.keys(i.feature_keys ?? {}).join(', ')],
    ['learners', run.models.map((m) => m.id).join(', ')],
    ['final predictions', run.final.source === 'final' ? (run.target === null ? 'final.oof.csv / final.test.csv' : 'final.<target>.oof.csv / final.<target>.test.csv') : `best learner: ${run.final.source}`],
    ['post-processing applied', views.map((v) => named(v, postprocessText(v))).join('; ')],
    ['submission', i.submission],
    ['kit / node / commit', `${i.kit_version ?? '?'} / ${i.node ?? '?'} / ${i.git_commit ?? 'not a git checkout'}`],
  ];
  if (i.counters && Object.keys(i.counters).length) items.push(['counters', Object.entries(i.counters).map(([k, n]) => `${k}: ${n}`).join(', ')]);
  const warn = views.flatMap((v) => cvWarnings(v).map((w) => `<p class="error">${esc(named(v, w))}</p>`)).join('');
  const line = (v: RunFolder) =>
    `<p class="big">${v.target === null ? '' : `${esc(v.target)}: `}final CV ${esc(metricHeader(run.mainMetric))} ${esc(fmtMetric(v.finalScores[run.mainMetric]))}` +
    `<span class="note"> &nbsp; ${esc(Object.entries(v.finalScores).filter(([k]) => k !== run.mainMetric).map(([k, x]) => `${metricHeader(k)} ${fmtMetric(x)}`).join('  '))}</span></p>`;
  const head = views.map(line).join('\n');
  return section('Run', head + warn + dl(items), 'summary');
}

/** A section of one target's results: its title and id name the target of a multi-target run. */
function targetSection(run: RunFolder, title: string, body: string, id: string): string {
  return run.target === null ? section(title, body, id) : section(`${title}: ${run.target}`, body, `${id}-${run.target}`);
}

function cvSection(run: RunFolder): string {
  const metrics = runMetrics(run);
  const rows = cvRows(run, metrics, { folds: true });
  const best = run.models.reduce<ModelRun | null>((a, b) => (!a || beats(run.mainMetric, b.scores[run.mainMetric] ?? NaN, a.scores[run.mainMetric] ?? NaN) ? b : a), null);
  const cls = rows.map((r) => (r.kind === 'oof' ? (r.learner === best?.id ? 'total best' : 'total') : r.kind === 'final' ? 'total' : r.kind === 'baseline' ? 'baseline' : r.kind === 'spread' ? 'spread' : ''));
  const leg = legend(metrics, run.mainMetric, { folds: rows.some((r) => r.kind === 'spread'), baseline: rows.some((r) => r.kind === 'baseline') });
  const warn = cvWarnings(run).map((w) => `<p class="error">${esc(w)}</p>`).join('');
  return targetSection(
    run,
    'Cross-validation',
    warn +
    table(['learner', 'scored on', ...metrics.map(metricHeader)], rows.map((r) => [r.learner, r.rows, ...r.values]), { className: 'cv', rowClass: (i) => cls[i], metrics: true }) +
      `<p class="note">Main metric ${esc(metricHeader(run.mainMetric))}; the best learner is highlighted.</p>` +
      `<dl class="legend">${leg.map((l) => `<dt>${esc(l.metric)}</dt><dd>${esc(l.text)}</dd>`).join('')}</dl>`,
    'cv',
  );
}

/** Gated learners: mean gate weight per expert on out-of-fold rows, overall and per segment. */
function gatesSection(run: RunFolder): string {
  const gated = run.models.filter((m) => m.gates);
  if (!gated.length) return '';
  const parts = gated.map((m) => {
    const g = m.gates!;
    const rows = g.rows.map((r) => [r.segment === 'all' ? 'all' : `${g.segment ?? 'segment'} = ${r.segment}`, r.n, ...r.mean]);
    return `<h3>${esc(m.id)}</h3>` + table(['rows', 'n', ...g.experts], rows, { className: 'gates' });
  });
  return targetSection(
    run,
    'Gate weights',
    parts.join('\n') + '<p class="note">Mean softmax gate weight per expert on each fold\'s validation rows (every row once, out of fold), overall and per value of the gate segment (the feature column\'s value: for a categorical column its code; the columns kind numbers levels by descending frequency).</p>',
    'gates',
  );
}

/** Importance shares summed per feature block, one column per learner, with each learner's method. */
function importanceSection(run: RunFolder): string {
  const withImp = run.models.filter((m) => m.importance.length);
  if (!withImp.length) return '';
  const shares = withImp.map((m) => new Map(blockShares(m.importance).map((b) => [b.name, b.share])));
  const blocks = [...new Set(shares.flatMap((s) => [...s.keys()]))].sort((a, b) => Math.max(...shares.map((s) => s.get(b) ?? 0)) - Math.max(...shares.map((s) => s.get(a) ?? 0)) || (a < b ? -1 : 1));
  return targetSection(
    run,
    'Importance by feature block',
    table(['block', ...withImp.map((m) => m.id)], blocks.map((b) => [b, ...shares.map((s) => s.get(b) ?? NaN)]), { className: 'blocks', metrics: true }) +
      `<p class="note">Each learner's importances as shares of its total (each column sums to 1), summed over the block's columns. Learners measure importance differently, so compare shares, not raw values:</p>` +
      dl(withImp.map((m) => [m.id, m.importanceMethod ?? 'method not recorded (run made before the kit recorded it)'])),
    'importance',
  );
}

function ensembleSection(run: RunFolder): string {
  const e = run.ensemble;
  if (!e) {
    const method = (run.info.config?.ensemble as { method?: string } | undefined)?.method;
    return targetSection(run, 'Ensemble', `<p class="note">${esc(method ? `method: ${method}` : 'no ensemble information')}${run.final.source !== 'final' ? esc(`; final predictions = ${run.final.source}`) : ''}</p>`, 'ensemble');
  }
  const parts: string[] = [];
  const shown = new Set<string>();
  if (typeof e.method === 'string') {
    parts.push(`<p>method: <b>${esc(e.method)}</b></p>`);
    shown.add('method');
  }
  const w = e.weights as Record<string, unknown> | undefined;
  if (w && typeof w === 'object') {
    shown.add('weights');
    const flat = Object.entries(w).filter((x): x is [string, number] => typeof x[1] === 'number');
    const nested = Object.entries(w).filter((x): x is [string, Record<string, unknown>] => !!x[1] && typeof x[1] === 'object');
    // flat {learner: weight}, or per level / group {group: {member: weight}}
    if (flat.length) parts.push(table(['learner', 'weight'], flat.sort((a, b) => b[1] - a[1]), { className: 'weights' }));
    if (nested.length)
      parts.push(
        table(
          ['group', 'member', 'weight'],
          nested.flatMap(([g, ws]) => Object.entries(ws).filter((x): x is [string, number] => typeof x[1] === 'number').sort((a, b) => b[1] - a[1]).map(([m, x]) => [g, m, x])),
          { className: 'weights' },
        ),
      );
  }
  if (Array.isArray(e.groups)) {
    shown.add('groups');
    const groups = e.groups as { id?: string; members?: string[]; scores?: Record<string, number> }[];
    const metrics = [...new Set(groups.flatMap((g) => Object.keys(g.scores ?? {})))];
    if (groups.length)
      parts.push(table(['group', 'members', ...metrics.map((m) => `CV ${m.toUpperCase()}`)], groups.map((g) => [g.id ?? '', (g.members ?? []).join(', '), ...metrics.map((m) => g.scores?.[m])]), { className: 'groups' }));
  }
  const pp = e.postprocess as Record<string, unknown> | undefined;
  if (pp && typeof pp === 'object') {
    shown.add('postprocess');
    const items = postprocessItems(pp);
    parts.push(items.length ? `<p>post-processing fitted on all OOF rows (applied to the test predictions):</p>${dl(items)}` : '<p class="note">no post-processing fitted</p>');
  }
  // per-fold fits (nested post-processing): each fold's CV rows got parameters fitted on the other folds
  const ppFolds = e.postprocess_folds;
  if (Array.isArray(ppFolds) && ppFolds.length) {
    shown.add('postprocess_folds');
    const keys = [...new Set(ppFolds.flatMap((f) => postprocessItems(f).map(([k]) => k)))];
    const rows = ppFolds.map((f, k) => {
      const m = new Map(postprocessItems(f));
      return [`fold ${k}`, ...keys.map((x) => m.get(x))];
    });
    parts.push(`<p>post-processing of each fold's CV rows, fitted on the other folds' OOF rows:</p>` + table(['fold', ...keys], rows, { className: 'pp-folds', metrics: true }));
  }
  const rest = Object.fromEntries(Object.entries(e).filter(([k]) => !shown.has(k)));
  if (Object.keys(rest).length) parts.push(`<pre>${esc(JSON.stringify(rest, null, 2))}</pre>`);
  return targetSection(run, 'Ensemble', parts.join('\n') || '<p class="note">empty</p>', 'ensemble');
}

function pseudoSection(run: RunFolder): string {
  if (!run.pseudoRounds.length) return '';
  const metrics = [...new Set(run.pseudoRounds.flatMap((r) => Object.keys(r.scores)))];
  const hasChosen = run.pseudoRounds.some((r) => r.chosen !== undefined);
  const hasGain = run.pseudoRounds.some((r) => r.gain);
  const gainHead = `${run.mainMetric.toUpperCase()} gain over round 0 (mean ± s.e. over folds)`;
  return targetSection(
    run,
    'Pseudo-label rounds',
    table(
      ['round', ...metrics.map((m) => `CV ${metricHeader(m)}`), ...(hasGain ? [gainHead] : []), ...(hasChosen ? ['kept'] : [])],
      run.pseudoRounds.map((r) => [
        String(r.round),
        ...metrics.map((m) => r.scores[m]),
        ...(hasGain ? [r.gain ? `${r.gain.mean.toFixed(4)} ± ${r.gain.se.toFixed(4)}` : ''] : []),
        ...(hasChosen ? [r.chosen ? 'yes' : ''] : []),
      ]),
      { className: 'pseudo', rowClass: (i) => (run.pseudoRounds[i].chosen ? 'best' : ''), metrics: true },
    ) +
      '<p class="note">Round 0 trains on labelled rows only; each later round adds pseudo-labelled test rows to training folds.' +
      (hasGain ? ' A later round is kept only when its mean gain (positive = better) exceeds its standard error.' : '') +
      '</p>',
    'pseudo',
  );
}

/** The learner whose importances stand for the run: the final source, else the best with any. */
function importanceModel(run: RunFolder): ModelRun | null {
  const withImp = run.models.filter((m) => m.importance.length > 0);
  return withImp.find((m) => m.id === run.final.source) ?? withImp.reduce<ModelRun | null>((a, b) => (!a || beats(run.mainMetric, b.scores[run.mainMetric] ?? NaN, a.scores[run.mainMetric] ?? NaN) ? b : a), null);
}

function correlationPlot(run: RunFolder, notes: string[]): PlotEntry | null {
  const oof = run.final.oof ?? run.models.find((m) => m.oof)?.oof ?? null;
  if (!oof) return null;
  const rows = sampleIndices(oof.label.length, CORR_ROWS);
  const label = Float64Array.from(rows, (r) => oof.label[r]);
  const imp = importanceModel(run);
  const keys = run.info.feature_keys ?? {};
  if (imp && Object.keys(keys).length) {
    const top = imp.importance.slice(0, TOP_CORR * 3).map((r) => r.feature);
    const cols = readFeatureColumns(cacheDirOf(run.dir, run.info), keys, top, rows);
    const names = top.filter((n) => cols.has(n)).slice(0, TOP_CORR);
    if (names.length) {
      return {
        name: 'correlation',
        spec: correlationSpec([{ name: 'label', values: label }, ...names.map((n) => ({ name: n, values: cols.get(n)! }))]),
        caption: `Pearson r over ${rows.length} train rows; the top ${names.length} features of ${imp.id} by importance that the block cache holds.`,
      };
    }
    notes.push('Correlation heatmap: no cached feature block holds the top features (cache cleared, or label-aware blocks), so it shows the learners\' OOF predictions instead.');
  }
  const preds = run.models.filter((m) => m.oof && m.oof.prediction.length === oof.label.length);
  if (!preds.length) return null;
  return {
    name: 'correlation',
    spec: correlationSpec(
      [{ name: 'label', values: label }, ...preds.map((m) => ({ name: `${m.id} (OOF)`, values: Float64Array.from(rows, (r) => m.oof!.prediction[r]) }))],
      { title: 'Correlation of OOF predictions and the label' },
    ),
    caption: 'Pearson r; feature values not available from the block cache, so learners\' out-of-fold predictions instead.',
  };
}

/** The plots of a run, in page order. */
export function reportPlots(run: RunFolder, notes: string[] = []): PlotEntry[] {
  const plots: PlotEntry[] = [];
  const oof = run.final.oof;
  const test = run.final.test;
  const src = run.final.source === 'final' ? 'final predictions' : `best learner ${run.final.source}`;
  if (run.task === 'regression') {
    if (oof) {
      plots.push({ name: 'pred-vs-actual', spec: predVsActualSpec({ label: oof.label, prediction: oof.prediction }), caption: `Out-of-fold ${src}; ${oof.prediction.filter(Number.isFinite).length > 2000 ? '2000 evenly spaced' : 'all'} of ${oof.prediction.filter(Number.isFinite).length} validated posts; symmetric-log axes; dashed: y = x.` });
      plots.push({ name: 'residuals', spec: residualsSpec({ label: oof.label, prediction: oof.prediction }), caption: `Predicted - actual, out-of-fold ${src}; symmetric-log x axis; red: mean residual per bin of actual (all validated rows).` });
    } else notes.push('No out-of-fold predictions in the run folder: predicted-vs-actual and residual plots left out.');
    const series = [];
    if (oof) series.push({ name: 'train label', values: oof.label });
    if (test) series.push({ name: 'test predicted', values: test.prediction });
    if (series.length) plots.push({ name: 'distribution', spec: distributionSpec(series), caption: `Share of posts per bin; test predictions from ${src}.` });
  } else {
    const curves = run.models.filter((m) => m.oof).map((m) => ({ name: m.id, label: m.oof!.label, score: m.oof!.prediction }));
    if (oof && run.final.source === 'final') curves.push({ name: 'final', label: oof.label, score: oof.prediction });
    if (curves.length) plots.push({ name: 'roc', spec: rocSpec(curves), caption: 'Out-of-fold scores; dashed: chance.' });
    if (oof) plots.push({ name: 'confusion', spec: confusionSpec({ label: oof.label, prob: oof.prediction }), caption: `Out-of-fold ${src}.` });
    const series = [];
    if (oof) {
      series.push({ name: 'train OOF, class 0', values: oof.prediction.filter((_, i) => oof.label[i] <= 0.5) });
      series.push({ name: 'train OOF, class 1', values: oof.prediction.filter((_, i) => oof.label[i] > 0.5) });
    }
    if (test) series.push({ name: 'test predicted', values: test.prediction });
    if (series.length) plots.push({ name: 'distribution', spec: distributionSpec(series, { title: 'Predicted probability by class', xTitle: 'predicted probability' }), caption: `Share of posts per bin: train OOF by actual class, and test; ${src}.` });
  }
  for (const m of run.models) {
    const shares = importanceShares(m.importance);
    if (shares.length)
      plots.push({
        name: `importance-${m.id}`,
        spec: importanceSpec(shares.map((x) => ({ feature: x.name, importance: x.share })), { top: 30, title: `Top ${Math.min(30, shares.length)} features of ${m.id}`, xTitle: 'share of total importance' }),
        caption: `From ${m.id}${run.target === null ? '' : `.${run.target}`}.importance.csv (${m.importance.length} features), as shares of the total (sum 1); ${m.importanceMethod ?? 'method not recorded'}.`,
      });
  }
  const corr = correlationPlot(run, notes);
  if (corr) plots.push(corr);
  const spread = run.models.filter((m) => m.folds.length).map((m) => ({ model: m.id, folds: m.folds.map((f) => f[run.mainMetric] ?? NaN) }));
  if (spread.length) plots.push({ name: 'fold-spread', spec: foldSpreadSpec(spread, run.mainMetric), caption: 'Dots: folds; red tick: mean over folds.' });
  return plots;
}

/** Renders every plot; a failing plot becomes an error figure. `onSvg` sees each SVG (PNG export). */
export async function renderFigures(plots: readonly PlotEntry[], onSvg?: (name: string, svg: string) => void): Promise<string[]> {
  const out: string[] = [];
  for (const p of plots) {
    try {
      const svg = await renderSvg(p.spec, { idPrefix: p.name });
      onSvg?.(p.name, svg);
      out.push(figure(p.name, svg, p.caption));
    } catch (e) {
      process.stderr.write(`[report] warning: plot ${p.name} failed: ${(e as Error).message}\n`);
      out.push(figure(p.name, { error: (e as Error).message }, p.caption));
    }
  }
  return out;
}

export interface ReportOptions {
  /** Also write `plots/<name>.png` beside report.html (needs the optional @resvg/resvg-js). */
  png?: boolean;
}

/** Final predictions of each pair of targets against each other (train OOF and test). */
function targetPairPlots(views: readonly RunFolder[]): PlotEntry[] {
  const plots: PlotEntry[] = [];
  for (let i = 0; i < views.length; i++)
    for (let j = i + 1; j < views.length; j++) {
      const [a, b] = [views[i], views[j]];
      const series = [];
      if (a.final.oof && b.final.oof) series.push({ name: 'train (OOF)', x: a.final.oof.prediction, y: b.final.oof.prediction });
      if (a.final.test && b.final.test) series.push({ name: 'test', x: a.final.test.prediction, y: b.final.test.prediction });
      if (!series.length) continue;
      const r = series.map((s) => `${s.name} r = ${fmt(pearson(Array.from(s.x), Array.from(s.y)))}`).join(', ');
      plots.push({ name: `targets-${a.target}-${b.target}`, spec: targetVsTargetSpec({ x: a.target!, y: b.target!, series }), caption: `Final predictions of ${a.target} and ${b.target} per post; Pearson ${r}.` });
    }
  return plots;
}

/** `runDir`: a run folder, or one already read (the runner reads it once for the summary and the report). */
export async function buildReportHtml(runDir: string | RunFolder, opts: ReportOptions = {}): Promise<string> {
  const run = typeof runDir === 'string' ? readRunFolder(runDir) : runDir;
  // Several targets: each one's sections and plots in turn (plot names end in -<target>).
  const views = run.targets.length ? run.targets.map((t) => (t === run.target ? run : readRunTarget(run.dir, t))) : [run];
  const notes: string[] = [];
  const plots = views.flatMap((view) => {
    const own = reportPlots(view, notes);
    return view.target === null ? own : own.map((p) => ({ ...p, name: `${p.name}-${view.target}`, caption: `${view.target}: ${p.caption}` }));
  });
  plots.push(...targetPairPlots(views));
  const toPng = opts.png ? await loadPng() : null;
  if (opts.png && !toPng) notes.push('PNG export skipped: @resvg/resvg-js is not installed (npm install @resvg/resvg-js).');
  const figures = await renderFigures(plots, toPng ? (name, svg) => writeFileAtomic(path.join(run.dir, 'plots', `${name}.png`), toPng(svg)) : undefined);
  const subtitle = `${run.name} · seed ${fmt(run.info.seed)} · ${run.info.started ?? ''}`;
  return htmlPage(`${run.pipeline} run report`, subtitle, [
    summarySection(run, views),
    ...views.flatMap((view) => [cvSection(view), gatesSection(view), importanceSection(view), ensembleSection(view), pseudoSection(view)]),
    section('Plots', `<div class="grid">${figures.join('\n')}</div>`, 'plots'),
    notes.length ? section('Notes', `<ul>${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`, 'notes') : '',
  ]);
}

/** Writes `<runDir>/report.html` and returns its path. */
export async function writeReport(runDir: string | RunFolder, opts: ReportOptions = {}): Promise<string> {
  const html = await buildReportHtml(runDir, opts);
  const dir = typeof runDir === 'string' ? runDir : runDir.dir;
  const file = path.join(dir, 'report.html');
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(file, html);
  return file;
}
