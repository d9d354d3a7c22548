/**
 * Golden SVG snapshots (after Observable Plot's test/plot-snapshot.js): the SVG (numbers already
 * rounded by renderSvg) is compared with `test/report/__snapshots__/<name>.svg`. A mismatch
 * writes `<name>-changed.svg` beside the golden file for review and fails; a missing golden file
 * is created (and the test passes) except under CI=true, where it fails: goldens are committed.
 * To accept a change: review the -changed file, then move it over the golden file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SNAPSHOT_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '__snapshots__');

export function checkSvgSnapshot(name: string, svg: string): { ok: true; created: boolean } | { ok: false; message: string } {
  const golden = path.join(SNAPSHOT_DIR, `${name}.svg`);
  const changed = path.join(SNAPSHOT_DIR, `${name}-changed.svg`);
  const actual = svg.endsWith('\n') ? svg : svg + '\n';
  if (!fs.existsSync(golden)) {
    if (process.env.CI === 'true') return { ok: false, message: `${golden} is missing (golden snapshots are committed; run the tests locally to create it)` };
    fs.mkdirSync(SNAPSHOT_DIR, { recursive: true });
    fs.writeFileSync(golden, actual);
    return { ok: true, created: true };
  }
  if (fs.readFileSync(golden, 'utf8') === actual) {
    fs.rmSync(changed, { force: true });
    return { ok: true, created: false };
  }
  fs.writeFileSync(changed, actual);
  return { ok: false, message: `${name}.svg differs from the golden file; wrote ${changed} for review` };
}
