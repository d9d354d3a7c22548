/**
 * @file The end-of-run summary printed on the terminal: the CV table (each learner's OOF scores
 * and mean ± std over folds, the constant baseline, the final predictions), the metric legend,
 * importance shares per feature block with each learner's method, and the post-processing
 * applied to the final predictions. Built from the run folder, like report.html.
 *
 * @example
 *   process.stderr.write(formatRunSummary(readRunFolder('runs/demo/20260101-120000')) + '\n');
 */
import { fmtMetric } from './html.ts';
import { textTable } from './text-table.ts';
import { blockShares, cvRows, direction, legend, metricHeader, postprocessItems, runMetrics, validationText } from './explain.ts';
import type { RunFolder } from './run-folder.ts';
import { describePostprocess, type PostprocessConfig } from '../pipeline/postprocess.ts';

/** Blocks named per learner; the rest are summed into "+N more". */
const TOP_BLOCKS = 8;

export function formatRunSummary(run: RunFolder): string {
  const metrics = runMetrics(run);
  const main = run.mainMetric;
  const out: string[] = [];
  out.push(`Summary of ${run.pipeline}${run.target === null ? '' : ` [${run.target}]`}: ${validationText(run)}; main metric ${main.toUpperCase()} (${direction(main) ?? '?'}); final predictions: ${run.final.source === 'final' ? `${(run.info.config?.ensemble as { method?: string } | undefined)?.method ?? 'ensemble'} of the learners` : `best learner ${run.final.source}`}`);
  for (const w of cvWarnings(run)) out.push(`  warning: ${w}`);
  const rows = cvRows(run, metrics);
  out.push(textTable(['learner', 'scored on', ...metrics.map(metricHeader)], rows.map((r) => [r.learner, r.rows, ...r.values]), { indent: '  ', metrics: true }));
  const leg = legend(metrics, main, { folds: rows.some((r) => r.kind === 'spread'), baseline: rows.some((r) => r.kind === 'baseline') });
  const w = Math.max(...leg.map((l) => l.metric.length));
  out.push('Legend:', ...leg.map((l) => `  ${l.metric.padEnd(w)}  ${l.text}`));
  const withImp = run.models.filter((m) => m.importance.length);
  if (withImp.length) {
    out.push('Importance by feature block (share of each learner\'s total, sums to 1):');
    for (const m of withImp) {
      const b = blockShares(m.importance);
      const rest = b.slice(TOP_BLOCKS).reduce((s, x) => s + x.share, 0);
      const parts = b.slice(0, TOP_BLOCKS).map((x) => `${x.name} ${x.share.toFixed(3)}`);
      if (rest > 0) parts.push(`+${b.length - TOP_BLOCKS} more ${rest.toFixed(3)}`);
      out.push(`  ${m.id} [${m.importanceMethod ?? 'method not recorded'}]: ${parts.join(', ') || 'all zero'}`);
    }
  }
  out.push(`Post-processing: ${postprocessText(run)}`);
  return out.join('\n');
}

/**
 * The post-processing the final predictions got, in the runner's own words (describePostprocess,
 * from run.json's config and metrics.json's fitted values); older runs: the fitted values as
 * they are, or "none".
 */
export function postprocessText(run: RunFolder): string {
  const cfg = run.info.config?.postprocess as PostprocessConfig | undefined;
  const fitted = run.ensemble?.postprocess;
  if (cfg && fitted && typeof fitted.scale === 'number') {
    try {
      return describePostprocess(cfg, fitted);
    } catch {
      // fitted values missing for the config (a run from another kit version): list what is there
    }
  }
  return postprocessItems(fitted).map(([k, v]) => `${k} ${typeof v === 'number' ? fmtMetric(v) : String(v)}`).join(', ') || 'none';
}

/** Warnings about how far the CV number can be trusted, as the runner recorded them (metrics.json `validation`). */
export function cvWarnings(run: RunFolder): string[] {
  const v = run.validation;
  if (!v?.optimistic) return [];
  return [v.note ?? 'optimistic CV: learners chose their rounds on the rows they are scored on (validation.early_stopping: fold)'];
}
