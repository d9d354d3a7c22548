/**
 * @file Dataset exploration written to one self-contained HTML file: label distribution, mean
 * popularity by category, hour and user activity, correlations of numeric columns with the label.
 *
 *   npx tsx notebooks/eda.ts --data data/sample [--out eda.html] [--track image|video]
 *
 * The page is built by core/report/eda.ts from `readDataset`; every optional file group may be
 * absent (sections without their columns say so).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readDataset } from '../core/data/read-dataset.ts';
import { DATA_GROUPS } from '../core/pipeline/schema.ts';
import { edaHtml } from '../core/report/eda.ts';
import { writeFileAtomic } from '../core/cache/atomic.ts';
import { UserError } from '../core/errors.ts';

const USAGE = 'usage: npx tsx notebooks/eda.ts --data DIR [--out file.html] [--track image|video]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { data: { type: 'string' }, out: { type: 'string' }, track: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.data) throw new UserError(`--data is required\n${USAGE}`);
  if (values.track && values.track !== 'image' && values.track !== 'video') throw new UserError(`--track must be image or video\n${USAGE}`);
  const t0 = Date.now();
  const table = await readDataset(values.data, { track: values.track as 'image' | 'video' | undefined, optional: [...DATA_GROUPS], onWarning: (m) => process.stderr.write(`[eda] ${m}\n`) });
  const out = values.out ?? path.join(values.data, 'eda.html');
  writeFileAtomic(out, await edaHtml(table));
  console.log(`wrote ${out} (${table.nTrain} train + ${table.nTest} test posts, ${((Date.now() - t0) / 1000).toFixed(1)}s)`);
}

try {
  await main();
} catch (e) {
  if (e instanceof UserError || (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    console.error(`error: ${(e as Error).message}`);
    process.exitCode = 1;
  } else throw e;
}
