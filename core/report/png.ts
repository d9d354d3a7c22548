/**
 * @file Optional PNG export of plot SVGs through `@resvg/resvg-js` (a native renderer, not a
 * dependency of the kit). When the package is not installed, `loadPng` returns null and callers
 * skip PNGs with one note; install it with `npm install @resvg/resvg-js` to get them.
 *
 * @example
 *   const toPng = await loadPng();
 *   if (toPng) fs.writeFileSync('plot.png', toPng(svg));
 */

type ResvgModule = { Resvg: new (svg: string, opts?: Record<string, unknown>) => { render(): { asPng(): Uint8Array } } };

let cached: Promise<((svg: string) => Uint8Array) | null> | null = null;

export function loadPng(): Promise<((svg: string) => Uint8Array) | null> {
  cached ??= (async () => {
    const name = '@resvg/resvg-js'; // a variable: the package is optional and may be absent
    try {
      const mod = (await import(name)) as ResvgModule & { default?: ResvgModule };
      const Resvg = mod.Resvg ?? mod.default?.Resvg;
      if (!Resvg) return null;
      return (svg: string) => new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 } }).render().asPng();
    } catch {
      return null;
    }
  })();
  return cached;
}
