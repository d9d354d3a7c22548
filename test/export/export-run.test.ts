/**
 * `smp export` on a small run: the .npy files and ids read back equal the run's cached blocks,
 * the Parquet files read back through DuckDB hold the same ids and values, and the exported OOF
 * and test predictions equal final.oof.csv / final.test.csv.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthImage } from '../../core/data/synth-image.ts';
import { runPipeline, type RunResult } from '../../core/pipeline/run.ts';
import { readNpy } from '../../core/cache/npy.ts';
import { withDuckDb, sqlString } from '../../core/data/duckdb.ts';
import { readOof, readTest } from '../../core/report/run-folder.ts';
import { exportRun, parseFormats, type ExportResult } from '../../core/export/export-run.ts';
import { tmpDir, writeFile } from '../helpers.ts';

const PIPELINE = `name: exp
track: image
seed: 3
data: { root: data }
validation: { scheme: kfold, folds: 3 }
features:
  - { id: meta, kind: metadata }
  - { id: time, kind: time }
  - { id: tfidf, kind: tfidf-svd, params: { components: 4 } }
  - { id: userstats, kind: user-label-stats }
models:
  - { id: ridge, kind: ridge, params: { alpha: 3 } }
  - { id: ridge_meta, kind: ridge, features: [meta, time] }
ensemble: { method: mean }
submission:
  external_data: { used: "false", details: "none" }
`;

let dir: string;
let run: RunResult;
let exp: ExportResult;
const lines = (f: string) => fs.readFileSync(f, 'utf8').split('\n').slice(0, -1);

beforeAll(async () => {
  dir = tmpDir('export');
  await synthImage({ out: path.join(dir, 'data'), posts: 400, seed: 8 });
  const file = writeFile(path.join(dir, 'exp.yaml'), PIPELINE);
  // the cache outside the work folder, as `--cache DIR` puts it: export finds it through run.json
  run = await runPipeline(file, { workDir: path.join(dir, 'work'), cacheDir: path.join(dir, 'shared-cache'), quiet: true, timestamp: 't' });
  exp = await exportRun(run.runDir, { formats: parseFormats('parquet,npy,csv') });
}, 120_000);

function cachedBlock(id: string) {
  const info = JSON.parse(fs.readFileSync(path.join(run.runDir, 'run.json'), 'utf8')) as { feature_keys: Record<string, string>; cache_dir: string };
  expect(info.cache_dir).toBe(path.join(dir, 'shared-cache'));
  const d = path.join(info.cache_dir, 'blocks', info.feature_keys[id]);
  return { ...readNpy(path.join(d, 'block.npy')), names: (JSON.parse(fs.readFileSync(path.join(d, 'meta.json'), 'utf8')) as { names: string[] }).names };
}

describe('smp export', () => {
  it('.npy blocks and ids read back equal the run\'s cached blocks; label-aware blocks are listed as skipped', () => {
    expect(exp.blocks).toEqual(['meta', 'time', 'tfidf']);
    expect(exp.skipped.map((s) => s.id)).toEqual(['userstats']);
    const ids = lines(path.join(exp.out, 'ids.txt'));
    expect(ids).toEqual(run.table.pid);
    let at = 0;
    const joined = readNpy(path.join(exp.out, 'features.npy'));
    const joinedNames = lines(path.join(exp.out, 'features.columns.txt'));
    for (const id of exp.blocks) {
      const b = cachedBlock(id);
      const e = readNpy(path.join(exp.out, 'blocks', `${id}.npy`));
      expect([e.rows, e.cols]).toEqual([ids.length, b.cols]);
      expect(Buffer.from(e.data.buffer).equals(Buffer.from(b.data.buffer))).toBe(true);
      expect(lines(path.join(exp.out, 'blocks', `${id}.columns.txt`))).toEqual(b.names);
      // the joined file holds this block at columns [at, at + cols) of every row
      for (const r of [0, 7, ids.length - 1])
        expect(Array.from(joined.data.subarray(r * joined.cols + at, r * joined.cols + at + b.cols))).toEqual(Array.from(b.data.subarray(r * b.cols, (r + 1) * b.cols)));
      expect(joinedNames.slice(at, at + b.cols)).toEqual(b.names.map((n) => `${id}.${n}`));
      at += b.cols;
    }
    expect(joined.cols).toBe(at);
  });

  it('Parquet files read back through DuckDB hold the ids, split and block values', async () => {
    const b = cachedBlock('tfidf');
    await withDuckDb(async (conn) => {
      const res = await conn.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(path.join(exp.out, 'blocks', 'tfidf.parquet'))})`);
      expect(res.columnNames()).toEqual(['pid', 'split', ...b.names]);
      const cols = res.getColumns();
      expect(cols[0].map(String)).toEqual(run.table.pid);
      expect(cols[1].filter((s) => s === 'train')).toHaveLength(run.table.nTrain);
      for (let j = 0; j < b.cols; j++) expect(Float32Array.from(cols[j + 2] as number[])).toEqual(Float32Array.from({ length: b.rows }, (_, r) => b.data[r * b.cols + j]));
      const joined = await conn.runAndReadAll(`SELECT count(*) AS n, count(DISTINCT pid) AS u FROM read_parquet(${sqlString(path.join(exp.out, 'features.parquet'))})`);
      expect(joined.getRowObjects()[0]).toEqual({ n: BigInt(run.table.n), u: BigInt(run.table.n) });
      const t = await conn.runAndReadAll(`SELECT "time.hour" AS h FROM read_parquet(${sqlString(path.join(exp.out, 'features.parquet'))})`);
      const time = cachedBlock('time');
      const hour = time.names.indexOf('hour');
      expect(Float32Array.from(t.getColumns()[0] as number[])).toEqual(Float32Array.from({ length: time.rows }, (_, r) => time.data[r * time.cols + hour]));
    });
  });

  it('the exported OOF and test predictions equal final.oof.csv / final.test.csv (npy, Parquet and CSV)', async () => {
    const oof = readOof(path.join(run.runDir, 'final.oof.csv'))!;
    const test = readTest(path.join(run.runDir, 'final.test.csv'))!;
    const trainNpy = readNpy(path.join(exp.out, 'train.npy'));
    const cols = lines(path.join(exp.out, 'train.columns.txt'));
    expect(cols).toEqual(['label', 'fold', 'ridge', 'ridge_meta', 'final']);
    expect(lines(path.join(exp.out, 'train.ids.txt'))).toEqual(oof.pid);
    const column = (m: { data: Float32Array; cols: number }, j: number) => Array.from({ length: oof.pid.length }, (_, r) => m.data[r * m.cols + j]);
    // train.npy is float64: read its values as written (the codec reads float32, so compare through Float32)
    expect(column(trainNpy, cols.indexOf('final'))).toEqual(Array.from(Float32Array.from(oof.prediction)));
    await withDuckDb(async (conn) => {
      for (const f of ['train.parquet', 'train.csv']) {
        const src = f.endsWith('.csv') ? `read_csv(${sqlString(path.join(exp.out, f))}, types = {'pid': 'VARCHAR'})` : `read_parquet(${sqlString(path.join(exp.out, f))})`;
        const r = (await conn.runAndReadAll(`SELECT pid, label, fold, final FROM ${src}`)).getColumns();
        expect(r[0].map(String)).toEqual(oof.pid);
        expect(Float64Array.from(r[3] as number[])).toEqual(oof.prediction);
        expect(Float64Array.from(r[1] as number[])).toEqual(oof.label);
        expect(Int32Array.from((r[2] as (number | bigint)[]).map(Number))).toEqual(oof.fold);
      }
      const t = (await conn.runAndReadAll(`SELECT pid, final FROM read_parquet(${sqlString(path.join(exp.out, 'test.parquet'))})`)).getColumns();
      expect(t[0].map(String)).toEqual(test.pid);
      expect(Float64Array.from(t[1] as number[])).toEqual(test.prediction);
    });
  });

  it('writes a README with the loading lines and leaves no temp files', () => {
    const readme = fs.readFileSync(path.join(exp.out, 'README.md'), 'utf8');
    expect(readme).toContain("pd.read_parquet('blocks/tfidf.parquet')");
    expect(readme).toContain("np.load('features.npy')");
    expect(readme).toMatch(/userstats.*label-aware/);
    const all = fs.readdirSync(exp.out, { recursive: true }).map(String);
    expect(all.filter((f) => f.includes('.tmp-') || f.includes('.duckdb'))).toEqual([]);
    for (const f of exp.files) expect(fs.existsSync(path.join(exp.out, f)), f).toBe(true);
  });

  it('a bad --format is a clear error', () => {
    expect(() => parseFormats('parquet,xlsx')).toThrow(/--format: expected .*parquet, npy, csv.*got xlsx/);
  });
});
