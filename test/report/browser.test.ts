/**
 * Opens reports in headless Chromium (Debian package `chromium`, /usr/bin/chromium or
 * $CHROMIUM_PATH) through playwright-core: every plot figure holds a rendered <svg> with marks,
 * the page logs no console errors and fetches nothing but its own file; screenshots go to
 * test/.tmp/. Without Chromium the test skips and says why; with CI=true it fails instead.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
import { writeReport } from '../../core/report/write-report.ts';
import { compareRuns } from '../../core/report/compare.ts';
import { writeFakeRun } from './fake-run.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SHOTS = path.join(ROOT, 'test', '.tmp');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CI = process.env.CI === 'true';
const missing = fs.existsSync(CHROMIUM) ? null : `Chromium not found at ${CHROMIUM} (install the Debian package: apt-get install -y chromium, or set CHROMIUM_PATH)`;

if (missing && !CI) console.warn(`[browser.test] skipped: ${missing}`);

let work: string;
let profile: string;
let context: BrowserContext | null = null;

beforeAll(async () => {
  if (missing) return;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'smp-browser-'));
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'smp-chromium-profile-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
});

interface PageCheck {
  figures: { name: string; svgs: number; marks: number; width: number; height: number; failed: boolean }[];
  errors: string[];
  foreignRequests: string[];
}

async function openAndCheck(file: string, shot: string): Promise<PageCheck> {
  const page = await context!.newPage();
  const errors: string[] = [];
  const foreignRequests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) foreignRequests.push(r.url());
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  const figures = await page.$$eval('figure.plot', (figs) =>
    figs.map((f) => {
      const svg = f.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      // marks: graphics inside vega mark groups (paths, lines, text) that occupy space
      const marks = svg ? [...svg.querySelectorAll('.role-mark > *')].filter((el) => {
        const b = (el as unknown as { getBBox?: () => { width: number; height: number } }).getBBox?.();
        return b && (b.width > 0 || b.height > 0);
      }).length : 0;
      return { name: f.getAttribute('data-plot') ?? '?', svgs: f.querySelectorAll(':scope > svg').length, marks, width: box?.width ?? 0, height: box?.height ?? 0, failed: f.classList.contains('failed') };
    }),
  );
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, shot), fullPage: true });
  await page.close();
  return { figures, errors, foreignRequests };
}

function expectAllRendered(c: PageCheck, names: string[]): void {
  expect(c.figures.map((f) => f.name)).toEqual(names);
  for (const f of c.figures) {
    expect(f.failed, `${f.name} failed to render`).toBe(false);
    expect(f.svgs, `${f.name}: one <svg>`).toBe(1);
    expect(f.marks, `${f.name}: marks drawn`).toBeGreaterThan(0);
    expect(f.width, `${f.name}: width`).toBeGreaterThan(50);
    expect(f.height, `${f.name}: height`).toBeGreaterThan(50);
  }
  expect(c.errors).toEqual([]);
  expect(c.foreignRequests).toEqual([]);
}

describe('report in headless Chromium', () => {
  it('regression report: every plot renders, no console errors, nothing fetched', async (ctx) => {
    if (missing) {
      if (CI) throw new Error(`CI=true but ${missing}`);
      ctx.skip(missing);
    }
    const file = await writeReport(writeFakeRun({ work: path.join(work, 'reg') }));
    const c = await openAndCheck(file, 'report-regression.png');
    expectAllRendered(c, ['pred-vs-actual', 'residuals', 'distribution', 'importance-ridge', 'importance-gbdt', 'correlation', 'fold-spread']);
    expect(fs.statSync(path.join(SHOTS, 'report-regression.png')).size).toBeGreaterThan(10_000);
  }, 60_000);

  it('binary report and the compare leaderboard render too', async (ctx) => {
    if (missing) {
      if (CI) throw new Error(`CI=true but ${missing}`);
      ctx.skip(missing);
    }
    const file = await writeReport(writeFakeRun({ work: path.join(work, 'bin'), task: 'binary', nTrain: 300, nTest: 100 }));
    const c = await openAndCheck(file, 'report-binary.png');
    expectAllRendered(c, ['roc', 'confusion', 'distribution', 'importance-ridge', 'importance-gbdt', 'correlation', 'fold-spread']);

    const a = writeFakeRun({ work: path.join(work, 'cmp'), ts: '20260101-100000', seed: 1, nTrain: 100, nTest: 20, cache: false });
    const b = writeFakeRun({ work: path.join(work, 'cmp'), ts: '20260101-110000', seed: 2, nTrain: 100, nTest: 20, cache: false });
    const out = path.join(work, 'board.html');
    await compareRuns([a, b], { html: out });
    expectAllRendered(await openAndCheck(out, 'compare.png'), ['leaderboard-1']);
  }, 60_000);
});
