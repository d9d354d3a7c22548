/**
 * @file HTML building blocks for self-contained reports: escaping, tables, figures holding an
 * inline SVG, and the page shell with inline CSS. No scripts, fonts or links to fetch.
 *
 * @example
 *   const page = htmlPage('demo', [section('Runs', table(['a'], [[1]]))]);
 */

export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Formats a cell: numbers to 4 significant decimals, NaN/undefined as a dash. */
export function fmt(v: unknown, digits = 4): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return '—';
    return Number.isInteger(v) ? String(v) : v.toFixed(digits);
  }
  if (v === undefined || v === null || v === '') return '—';
  return String(v);
}

/** A metric value: always 4 decimals (0.0000, not 0), a dash when missing. */
export function fmtMetric(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(4) : fmt(v);
}

/** `metrics: true` formats every number as a metric value (fmtMetric). */
export function table(header: readonly string[], rows: readonly (readonly unknown[])[], o: { className?: string; rowClass?: (i: number) => string; metrics?: boolean } = {}): string {
  const head = `<tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = rows
    .map((r, i) => {
      const cls = o.rowClass?.(i);
      return `<tr${cls ? ` class="${esc(cls)}"` : ''}>${r.map((c) => `<td${typeof c === 'number' ? ' class="num"' : ''}>${esc(o.metrics ? fmtMetric(c) : fmt(c))}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<table${o.className ? ` class="${esc(o.className)}"` : ''}><thead>${head}</thead><tbody>\n${body}\n</tbody></table>`;
}

/** Key/value list for run summaries. */
export function dl(items: readonly [string, unknown][]): string {
  return `<dl>${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(fmt(v))}</dd>`).join('')}</dl>`;
}

export function section(title: string, body: string, id?: string): string {
  return `<section${id ? ` id="${esc(id)}"` : ''}><h2>${esc(title)}</h2>\n${body}\n</section>`;
}

/** A plot figure; `svg` is trusted markup from renderSvg, or an error message is shown. */
export function figure(name: string, svg: string | { error: string }, caption = ''): string {
  const inner = typeof svg === 'string' ? svg : `<p class="error">plot failed: ${esc(svg.error)}</p>`;
  return `<figure class="plot${typeof svg === 'string' ? '' : ' failed'}" id="plot-${esc(name)}" data-plot="${esc(name)}">${inner}${caption ? `<figcaption>${esc(caption)}</figcaption>` : ''}</figure>`;
}

const CSS = `
body{font:14px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#222;margin:0;background:#fafafa}
header{background:#24323f;color:#fff;padding:16px 28px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#cfd8e0}
main{padding:8px 28px 40px;max-width:1400px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:12px 18px;margin:16px 0}
h2{font-size:17px;margin:4px 0 10px}
table{border-collapse:collapse;font-size:13px}
th,td{border-bottom:1px solid #eee;padding:3px 10px;text-align:left}
th{background:#f3f5f7}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:600;background:#f8fbff}
tr.best td{background:#eef8ee}
tr.spread td{color:#555}
tr.baseline td{color:#555;font-style:italic;background:#fbfbf4}
dl.legend{margin-top:8px;font-size:13px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}
dt{color:#666}
dd{margin:0;word-break:break-all}
.grid{display:flex;flex-wrap:wrap;gap:14px}
figure.plot{margin:0;padding:8px;background:#fff;border:1px solid #eee;border-radius:4px}
figure.plot svg{display:block;max-width:100%;height:auto}
figcaption{font-size:12px;color:#666;max-width:480px;margin-top:4px}
.error{color:#b00020}
.note{color:#666;font-size:13px}
.big{font-size:18px;font-weight:600}
`;

export function htmlPage(title: string, subtitle: string, sections: readonly string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><link rel="icon" href="data:,">
<style>${CSS}</style></head>
<body><header><h1>${esc(title)}</h1><p>${esc(subtitle)}</p></header>
<main>
${sections.join('\n')}
</main></body></html>
`;
}
