/**
 * @file `npm run notebooks`: executes every notebooks/*.ipynb headless with Debian's Jupyter
 * (`jupyter nbconvert --execute`) on Deno's Jupyter kernel, on the bundled sample. It makes what
 * the notebooks read when missing (data/sample, and one run of pipelines/demo.yaml without
 * pseudo-labels), registers the kernel in a private folder (JUPYTER_PATH, nothing written to
 * ~/.local), and writes the executed copies to notebooks/executed/ (not committed). A failing
 * cell fails the command.
 *
 *   npm run notebooks [-- explore-dataset inspect-run]   (names: run only those)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBundledSample } from '../core/data/bundled-sample.ts';
import { UserError } from '../core/errors.ts';
import { runPipeline } from '../core/pipeline/run.ts';
import { newestRun } from './lib.ts';
import { KIT_ROOT } from '../core/version.ts';

const NB_DIR = path.join(KIT_ROOT, 'notebooks');
const OUT = path.join(NB_DIR, 'executed');
const DENO = path.join(KIT_ROOT, 'node_modules', '.bin', 'deno');

function checkTools(): void {
  if (!fs.existsSync(DENO)) throw new UserError(`${DENO} not found: the notebooks run on Deno's Jupyter kernel, a dev dependency; run \`npm install\``);
  const nb = spawnSync('jupyter', ['nbconvert', '--version'], { encoding: 'utf8' });
  if (nb.status !== 0)
    throw new UserError('`jupyter nbconvert` not found: install Debian\'s Jupyter with `apt-get install jupyter-nbconvert python3-ipykernel` (or `pip install nbconvert ipykernel`)');
}

/** A kernelspec for node_modules' deno in a private JUPYTER_PATH folder. */
function kernelPath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smp-kit-jupyter-'));
  fs.mkdirSync(path.join(dir, 'kernels', 'deno'), { recursive: true });
  const spec = { argv: [DENO, 'jupyter', '--kernel', '--conn', '{connection_file}'], display_name: 'Deno', language: 'typescript' };
  fs.writeFileSync(path.join(dir, 'kernels', 'deno', 'kernel.json'), JSON.stringify(spec, null, 1));
  return dir;
}

function hasRun(runsDir: string): boolean {
  try {
    return Boolean(newestRun(runsDir));
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  checkTools();
  const wanted = process.argv.slice(2);
  const books = fs.readdirSync(NB_DIR).filter((f) => f.endsWith('.ipynb') && (!wanted.length || wanted.includes(f.replace(/\.ipynb$/, '')))).sort();
  if (!books.length) throw new UserError(`no notebook matches ${wanted.join(' ')} in ${NB_DIR}`);
  const say = (line: string) => process.stderr.write(`[notebooks] ${line}\n`);
  const sample = await ensureBundledSample(KIT_ROOT, say);
  if (!hasRun(path.join(KIT_ROOT, 'runs'))) {
    say('no run under runs/: running pipelines/demo.yaml on the sample (no pseudo-label round) for the run notebooks');
    await runPipeline(path.join(KIT_ROOT, 'pipelines', 'demo.yaml'), { data: sample, set: ['pseudo_labels.rounds=0'], workDir: KIT_ROOT, quiet: true });
  }
  const env = { ...process.env, JUPYTER_PATH: kernelPath(), SMP_NB_OUT: OUT, NO_COLOR: '1' };
  fs.mkdirSync(OUT, { recursive: true });
  for (const book of books) {
    const t0 = Date.now();
    const r = spawnSync('jupyter', ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.timeout=1200', '--output-dir', OUT, path.join(NB_DIR, book)], { env, cwd: NB_DIR, encoding: 'utf8' });
    if (r.status !== 0) {
      process.stderr.write(r.stderr);
      throw new UserError(`${book}: a cell failed (above); the partial output is not written`);
    }
    say(`${book}: executed in ${((Date.now() - t0) / 1000).toFixed(1)}s -> ${path.relative(KIT_ROOT, path.join(OUT, book))}`);
  }
  console.log(`${books.length} notebook(s) executed: ${books.join(', ')}`);
}

try {
  await main();
} catch (e) {
  if (e instanceof UserError) {
    console.error(`error: ${e.message}`);
    process.exitCode = 1;
  } else throw e;
}
