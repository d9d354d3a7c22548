import { describe, expect, it } from 'vitest';
import { renderSvg, roundSvgNumbers, prefixSvgIds, type VlSpec } from '../../core/report/svg.ts';
import { predVsActualSpec } from '../../core/report/plots/pred-vs-actual.ts';
import { importanceSpec } from '../../core/report/plots/importance.ts';
import { foldSpreadSpec } from '../../core/report/plots/fold-spread.ts';
import { rocSpec } from '../../core/report/plots/roc.ts';
import { confusionSpec } from '../../core/report/plots/confusion.ts';
import { correlationSpec } from '../../core/report/plots/correlation.ts';
import { distributionSpec } from '../../core/report/plots/distribution.ts';
import { groupMeanSpec } from '../../core/report/plots/group-mean.ts';
import { checkSvgSnapshot } from './snapshot.ts';

// Fixed data: no PRNG, so the goldens change only when the plots do.
const label = Array.from({ length: 40 }, (_, i) => (i * 7919) % 97 / 9.7);
const prediction = label.map((y, i) => y * 0.8 + 1 + Math.sin(i) * 0.7);
const binLabel = label.map((y) => (y > 5 ? 1 : 0));
const prob = label.map((y, i) => 1 / (1 + Math.exp(-(y - 5) / 1.5 + Math.cos(i))));

async function render(spec: VlSpec): Promise<{ svg: string; warnings: string[] }> {
  const warnings: string[] = [];
  const svg = await renderSvg(spec, { onWarning: (m) => warnings.push(m) });
  return { svg, warnings };
}

async function snapshot(name: string, spec: VlSpec): Promise<string> {
  const { svg, warnings } = await render(spec);
  expect(warnings, `vega warnings for ${name}`).toEqual([]);
  expect(svg.startsWith('<svg')).toBe(true);
  // rounded: no coordinate inside a tag carries more than 2 decimals
  expect(svg.match(/<[^>]*>/g)!.join('')).not.toMatch(/\d\.\d{3,}/);
  const r = checkSvgSnapshot(name, svg);
  if (!r.ok) throw new Error(r.message);
  return svg;
}

const count = (svg: string, re: RegExp) => (svg.match(re) ?? []).length;

describe('plot snapshots', () => {
  it('predicted vs actual: one symbol per finite point, symlog axes', async () => {
    const p = [...prediction];
    p[3] = NaN; // never validated
    const svg = await snapshot('pred-vs-actual', predVsActualSpec({ label, prediction: p }));
    const symbols = svg.match(/<g class="mark-symbol role-mark[^>]*>([\s\S]*?)<\/g>/)![1];
    expect(count(symbols, /<path /g)).toBe(39);
    expect(svg).toContain('Predicted vs actual');
  });

  it('importance: top-N bars in descending order', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ feature: `block.f${String(i).padStart(2, '0')}`, importance: (i * 37) % 41 }));
    const svg = await snapshot('importance', importanceSpec(rows, { top: 30 }));
    const bars = svg.match(/<g class="mark-rect role-mark[^>]*>([\s\S]*?)<\/g>/)![1];
    expect(count(bars, /<path /g)).toBe(30);
    // f10 has importance 370 % 41 = 1 and falls out of the top 30, f01 (37) stays
    expect(svg).toContain('block.f01');
    expect(svg).not.toContain('block.f10<');
  });

  it('fold spread: a dot per fold and a tick per learner', async () => {
    const svg = await snapshot('fold-spread', foldSpreadSpec([{ model: 'ridge', folds: [0.61, 0.63, 0.6, 0.64, 0.62] }, { model: 'gbdt', folds: [0.66, 0.67, 0.65, 0.69, 0.68] }], 'src'));
    const dots = svg.match(/<g class="mark-symbol role-mark[^>]*>([\s\S]*?)<\/g>/)![1];
    expect(count(dots, /<path /g)).toBe(10);
    expect(svg).toContain('SRC');
  });

  it('ROC curve names the AUC of each curve', async () => {
    const svg = await snapshot('roc', rocSpec([{ name: 'final', label: binLabel, score: prob }]));
    expect(svg).toMatch(/final \(AUC 0\.\d+\)/);
  });

  it('confusion matrix: four cells whose counts add up to the rows', async () => {
    const svg = await snapshot('confusion', confusionSpec({ label: binLabel, prob }));
    const texts = svg.match(/<g class="mark-text role-mark[^>]*>([\s\S]*?)<\/g>/)![1];
    const counts = [...texts.matchAll(/>(\d+)<\/text>/g)].map((m) => Number(m[1]));
    expect(counts).toHaveLength(4);
    expect(counts.reduce((s, x) => s + x, 0)).toBe(40);
  });

  it('correlation heatmap: n x n cells, diagonal 1', async () => {
    const cols = [
      { name: 'label', values: label },
      { name: 'pred', values: prediction },
      { name: 'neg', values: label.map((y) => -y) },
    ];
    const svg = await snapshot('correlation', correlationSpec(cols));
    const rects = svg.match(/<g class="mark-rect role-mark[^>]*>([\s\S]*?)<\/g>/)![1];
    expect(count(rects, /<path /g)).toBe(9);
    expect(svg).toContain('>\u22121.00<'); // r = -1 formatted .2f, printed by vega with U+2212 minus
  });

  it('distribution and group means render without warnings', async () => {
    await snapshot('distribution', distributionSpec([{ name: 'train label', values: label }, { name: 'test predicted', values: prediction }], { bins: 10 }));
    await snapshot('group-mean', groupMeanSpec([{ group: 'a', mean: 5.2, count: 10 }, { group: 'b', mean: 6.1, count: 3 }], { title: 'by group', overall: 5.4 }));
  });
});

describe('svg helpers', () => {
  it('rounds decimals and prefixes ids with their references', () => {
    expect(roundSvgNumbers('<path d="M1.23456,-0.00001L3,4.5"/><text x="1.005">0.8557</text>')).toBe('<path d="M1.23,0L3,4.5"/><text x="1">0.8557</text>');
    const s = prefixSvgIds('<clipPath id="clip1"></clipPath><g clip-path="url(#clip1)"><use href="#clip1"/><g style="fill:url(#other)"/>', 'p');
    expect(s).toBe('<clipPath id="p-clip1"></clipPath><g clip-path="url(#p-clip1)"><use href="#p-clip1"/><g style="fill:url(#other)"/>');
  });

  it('warnings from vega-lite reach the callback instead of the console', async () => {
    const { warnings } = await render({ data: { values: [{ a: 1 }] }, mark: 'point', encoding: { x: { field: 'a', type: 'quantitative' }, shape: { field: 'a', type: 'quantitative' } } } as VlSpec);
    expect(warnings.join(' ')).toMatch(/shape/);
  });
});
