/**
 * @file The bundled sample (`data/sample`): a 4,000-post synthetic image-track dataset that
 * `npm start` and `npm run notebooks` generate on first use, so both run on a fresh checkout.
 */
import fs from 'node:fs';
import path from 'node:path';
import { synthImage } from './synth-image.ts';

/** Generates data/sample under workDir unless it exists; returns its absolute path. */
export async function ensureBundledSample(workDir: string, say: (line: string) => void): Promise<string> {
  const sample = path.resolve(workDir, 'data', 'sample');
  if (fs.existsSync(path.join(sample, 'test'))) return sample;
  say(`generating the bundled sample into ${path.relative(process.cwd(), sample) || sample} ...`);
  const t0 = Date.now();
  const c = await synthImage({ out: sample, posts: 4000, seed: 2025 });
  say(`${c.train} train + ${c.test} test posts in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  return sample;
}
