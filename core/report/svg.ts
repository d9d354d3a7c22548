/**
 * @file Renders a Vega-Lite spec to an SVG string offline: vega-lite compiles it, vega runs the
 * dataflow with renderer `none` (no canvas, no DOM, no network) and serialises the scenegraph.
 * Coordinates are rounded to 2 decimals so outputs are stable and small, and element ids get a
 * prefix so several SVGs can live in one HTML page without clip-path clashes.
 *
 * @example
 *   const svg = await renderSvg({ data: { values: [{ x: 1, y: 2 }] }, mark: 'point',
 *     encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } });
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export type VlSpec = TopLevelSpec;

/** Rounds a number for plot data (plots never need more than 4 significant decimals). */
export function round(x: number, digits = 4): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  const r = Math.round(x * f) / f;
  return Object.is(r, -0) ? 0 : r;
}

/** Rounds the decimal numbers inside SVG tags (path data, transforms, sizes); text content (axis labels, cell values) is left as formatted. */
export function roundSvgNumbers(svg: string, digits = 2): string {
  return svg.replace(/<[^>]*>/g, (tag) => tag.replace(/-?\d+\.\d+(e-?\d+)?/g, (m) => String(round(Number(m), digits))));
}

/** Prefixes `id="x"` and the `url(#x)` / `href="#x"` references to them. */
export function prefixSvgIds(svg: string, prefix: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]);
  if (ids.size === 0) return svg;
  return svg
    .replace(/(\sid=")([^"]+)"/g, (m, a: string, id: string) => `${a}${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (m, id: string) => (ids.has(id) ? `url(#${prefix}-${id})` : m))
    .replace(/(href=")#([^"]+)"/g, (m, a: string, id: string) => (ids.has(id) ? `${a}#${prefix}-${id}"` : m));
}

const BASE_CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 10, titleFontSize: 11, gridColor: '#eee' },
  legend: { labelFontSize: 10, titleFontSize: 11 },
  title: { fontSize: 13, anchor: 'start' as const },
};

/** A vega logger that hands warnings and errors to one callback instead of the console. */
function collectingLogger(onWarning: (message: string) => void) {
  let lvl = vega.Warn;
  const say = (...args: unknown[]) => onWarning(args.map(String).join(' '));
  const logger = {
    level(l?: number) {
      if (l === undefined) return lvl;
      lvl = l;
      return logger;
    },
    error: (...a: unknown[]) => (say(...a), logger),
    warn: (...a: unknown[]) => (lvl >= vega.Warn && say(...a), logger),
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}

export interface RenderOptions {
  /** Prefix of element ids (several SVGs in one page). */
  idPrefix?: string;
  /** Receives vega-lite / vega warnings (default: stderr with a [report] prefix). */
  onWarning?: (message: string) => void;
}

export async function renderSvg(spec: VlSpec, opts: RenderOptions = {}): Promise<string> {
  const onWarning = opts.onWarning ?? ((m: string) => process.stderr.write(`[report] vega warning: ${m}\n`));
  const logger = collectingLogger(onWarning);
  const withConfig = { ...spec, config: { ...BASE_CONFIG, ...((spec as { config?: object }).config ?? {}) } } as VlSpec;
  const compiled = compile(withConfig, { logger: logger as never }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger: logger as never });
  try {
    const svg = roundSvgNumbers(await view.toSVG());
    return opts.idPrefix ? prefixSvgIds(svg, opts.idPrefix) : svg;
  } finally {
    view.finalize();
  }
}
