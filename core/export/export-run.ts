/**
 * @file `smp export <run dir>`: a run's data for Python (pandas, numpy) and other tools.
 * Reads the run folder (run.json, per-model and final OOF / test CSVs) and the run's feature
 * blocks from the block cache (run.json `feature_keys` and `cache_dir`), and writes into the
 * output folder (default `<run dir>/export`), per format asked (parquet, npy, csv):
 *
 *   blocks/<id>.parquet|.csv      pid, split, then the block's named columns (float32)
 *   blocks/<id>.npy               the block (rows x columns, float32), + blocks/<id>.columns.txt
 *   features.parquet|.csv|.npy    every exported block side by side, columns `<id>.<column>`
 *   ids.txt                       (npy) post id of each row of the blocks: train rows, then test
 *   train.parquet|.csv|.npy       pid, label, fold, then each model's OOF prediction and `final`
 *   test.parquet|.csv|.npy        pid, then each model's test prediction and `final`
 *                                 (several targets: `label.<target>`, `<model>.<target>`,
 *                                 `final.<target>` for each target, and `fold` once when the
 *                                 targets share their folds, else `fold.<target>`)
 *   README.md                     the pandas and numpy lines that load each file
 *
 * Label-aware blocks (user-label-stats) are fitted inside each fold and never cached as one
 * block, so they are listed as skipped. Every file is written under a temp name and renamed;
 * big blocks stream (DuckDB appender in row chunks, .npy copied or joined chunk by chunk).
 *
 * @example
 *   const r = await exportRun('runs/demo/20260101-120000', { formats: ['parquet', 'npy'] });
 *   console.log(r.out, r.files, r.skipped);
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { copyFileAtomic, writeFileAtomic } from '../cache/atomic.ts';
import { readNpyHeader, openNpy, writeNpy } from '../cache/npy.ts';
import { sqlName } from '../data/duckdb.ts';
import { cacheDirOf } from '../report/feature-columns.ts';
import { readRunFolder, readRunTarget, type OofRows, type RunFolder } from '../report/run-folder.ts';
import { columnOf, ExportDb, type ColumnSpec } from './duckdb-tables.ts';
import { writeJoinedNpy, writeLines } from './npy-files.ts';
import { exportReadme, type ExportedFile } from './readme.ts';

export const EXPORT_FORMATS = ['parquet', 'npy', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  /** Output folder (default `<run dir>/export`). */
  out?: string;
  formats?: readonly ExportFormat[];
  /** Block cache of the run (default: run.json `cache_dir`, else `<work dir>/.cache`). */
  cacheDir?: string;
  onProgress?: (message: string) => void;
}

export interface ExportResult {
  out: string;
  /** Files written, relative to `out`. */
  files: string[];
  /** Block ids exported. */
  blocks: string[];
  skipped: { id: string; why: string }[];
}

interface Block {
  id: string;
  file: string;
  names: string[];
}

/** A predictions table: pid plus named float64 columns (label, fold, per-model predictions). */
interface PredTable {
  pid: string[];
  columns: { name: string; type: 'DOUBLE' | 'INTEGER'; values: Float64Array | Int32Array }[];
}

export function parseFormats(list: string): ExportFormat[] {
  const out = list.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = out.filter((f) => !(EXPORT_FORMATS as readonly string[]).includes(f));
  if (bad.length || out.length === 0) throw new UserError(`--format: expected a comma-separated list of ${EXPORT_FORMATS.join(', ')}${bad.length ? `, got ${bad.join(', ')}` : ''}`);
  return [...new Set(out as ExportFormat[])];
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export async function exportRun(runDir: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const formats = new Set(opts.formats ?? ['parquet', 'npy']);
  const say = opts.onProgress ?? (() => {});
  const run = readRunFolder(runDir);
  const out = path.resolve(opts.out ?? path.join(runDir, 'export'));
  const cacheDir = path.resolve(opts.cacheDir ?? cacheDirOf(runDir, run.info));

  // Rows of every block: the train posts (OOF files), then the test posts.
  const oof = run.final.oof;
  const test = run.final.test;
  if (!oof || !test) throw new UserError(`${runDir}: no final.oof.csv / final.test.csv (nor per-model OOF and test CSVs) to take the post ids from`);
  const pids = [...oof.pid, ...test.pid];
  const nTrain = oof.pid.length;

  // Blocks in pipeline order, from the cache.
  const keys = run.info.feature_keys ?? {};
  const kinds = new Map((run.info.config?.features ?? []).map((f) => [f.id, f.kind]));
  const order = [...kinds.keys()].filter((id) => keys[id]).concat(Object.keys(keys).filter((id) => !kinds.has(id)));
  const blocks: Block[] = [];
  const skipped: ExportResult['skipped'] = [];
  for (const id of order) {
    const dir = path.join(cacheDir, 'blocks', keys[id]);
    const file = path.join(dir, 'block.npy');
    if (!fs.existsSync(path.join(dir, 'meta.json')) || !fs.existsSync(file)) {
      const kind = kinds.get(id);
      skipped.push({ id, why: kind === 'user-label-stats' ? `${kind} is label-aware: fitted inside each fold, never one block` : `${kind ?? 'block'}: not in the cache ${dir} (pruned, or the run used another cache: pass --cache DIR)` });
      continue;
    }
    const names = (JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { names: string[] }).names;
    const h = readNpyHeader(file);
    if (h.rows !== pids.length || h.cols !== names.length)
      throw new UserError(`${file}: ${h.rows} x ${h.cols}, but the run has ${pids.length} posts and meta.json names ${names.length} columns`);
    blocks.push({ id, file, names });
  }

  // One view per target (one for a one-target run); columns carry the target when there are several.
  const views = run.targets.length ? run.targets.map((t) => ({ sfx: `.${t}`, run: readRunTarget(runDir, t) })) : [{ sfx: '', run }];
  const train = trainTable(views, oof);
  const testTable: PredTable = {
    pid: test.pid,
    columns: views.flatMap(({ sfx, run: v }) => [
      ...v.models.filter((m) => m.test && sameIds(m.test.pid, test.pid)).map((m) => ({ name: m.id + sfx, type: 'DOUBLE' as const, values: m.test!.prediction })),
      ...(v.final.source === 'final' && v.final.test ? [{ name: `final${sfx}`, type: 'DOUBLE' as const, values: v.final.test.prediction }] : []),
    ]),
  };

  const files: ExportedFile[] = [];
  const note = (file: string, what: string, rows: number, cols: number) => files.push({ file: path.relative(out, file), what, rows, cols });
  fs.mkdirSync(out, { recursive: true });

  if (formats.has('npy')) {
    writeLines(path.join(out, 'ids.txt'), pids);
    note(path.join(out, 'ids.txt'), 'post id of each row of the blocks and features.npy (train rows, then test rows)', pids.length, 1);
    for (const b of blocks) {
      say(`npy ${b.id}`);
      copyFileAtomic(b.file, path.join(out, 'blocks', `${b.id}.npy`));
      writeLines(path.join(out, 'blocks', `${b.id}.columns.txt`), b.names);
      note(path.join(out, 'blocks', `${b.id}.npy`), `block ${b.id}`, pids.length, b.names.length);
    }
    if (blocks.length) {
      say('npy features (all blocks joined)');
      writeJoinedNpy(path.join(out, 'features.npy'), blocks.map((b) => ({ file: b.file, cols: b.names.length })), pids.length);
      const joined = blocks.flatMap((b) => b.names.map((n) => `${b.id}.${n}`));
      writeLines(path.join(out, 'features.columns.txt'), joined);
      note(path.join(out, 'features.npy'), 'all blocks side by side', pids.length, joined.length);
    }
    for (const [name, t] of [['train', train], ['test', testTable]] as const) {
      const m = new Float64Array(t.pid.length * t.columns.length);
      t.columns.forEach((c, j) => c.values.forEach((v, r) => (m[r * t.columns.length + j] = v)));
      writeNpy(path.join(out, `${name}.npy`), m, t.pid.length, t.columns.length);
      writeLines(path.join(out, `${name}.columns.txt`), t.columns.map((c) => c.name));
      writeLines(path.join(out, `${name}.ids.txt`), t.pid);
      note(path.join(out, `${name}.npy`), name === 'train' ? 'labels, folds, OOF predictions (float64)' : 'test predictions (float64)', t.pid.length, t.columns.length);
    }
  }

  const tableFormats = (['parquet', 'csv'] as const).filter((f) => formats.has(f));
  if (tableFormats.length) {
    const db = await ExportDb.open(path.join(out, `.export-${process.pid}.duckdb`));
    try {
      const split = pids.map((_, r) => (r < nTrain ? 'train' : 'test'));
      for (const b of blocks) {
        say(`table ${b.id} (${b.names.length} columns)`);
        await blockTable(db, b, pids, split);
      }
      const selectBlock = (b: Block) => `SELECT * FROM ${sqlName(b.id)}`;
      const joined = blocks.length
        ? `SELECT b0.pid, b0.split, ${blocks.flatMap((b, i) => b.names.map((n) => `b${i}.${sqlName(n)} AS ${sqlName(`${b.id}.${n}`)}`)).join(', ')} FROM ${blocks.map((b, i) => `${sqlName(b.id)} b${i}`).join(' POSITIONAL JOIN ')}`
        : null;
      for (const [name, t] of [['train', train], ['test', testTable]] as const) await predTable(db, `_${name}`, t);
      for (const f of tableFormats) {
        for (const b of blocks) {
          say(`${f} ${b.id}`);
          await db.copy(selectBlock(b), path.join(out, 'blocks', `${b.id}.${f}`), f);
          note(path.join(out, 'blocks', `${b.id}.${f}`), `block ${b.id}: pid, split, columns`, pids.length, b.names.length + 2);
        }
        if (joined) {
          say(`${f} features (all blocks joined)`);
          await db.copy(joined, path.join(out, `features.${f}`), f);
          note(path.join(out, `features.${f}`), 'pid, split, all blocks side by side (`<block>.<column>`)', pids.length, blocks.reduce((s, b) => s + b.names.length, 2));
        }
        for (const [name, t] of [['train', train], ['test', testTable]] as const) {
          await db.copy(`SELECT * FROM ${sqlName(`_${name}`)}`, path.join(out, `${name}.${f}`), f);
          note(path.join(out, `${name}.${f}`), name === 'train' ? 'pid, label, fold, OOF prediction per model and final' : 'pid, test prediction per model and final', t.pid.length, t.columns.length + 1);
        }
      }
    } finally {
      db.close();
    }
  }

  writeFileAtomic(path.join(out, 'README.md'), exportReadme({ run: path.resolve(runDir), pipeline: run.pipeline, files, skipped, nTrain, nTest: test.pid.length, targets: run.targets }));
  return { out, files: [...files.map((f) => f.file), 'README.md'], blocks: blocks.map((b) => b.id), skipped };
}

/**
 * Labels, folds and the OOF predictions of every model (rows the model never validated: NaN) and
 * the final one, per target view (`sfx`: '' for one target, `.<target>` for several).
 */
function trainTable(views: { sfx: string; run: RunFolder }[], oof: OofRows): PredTable {
  const oofOf = (v: RunFolder) => v.final.oof ?? oof;
  const sharedFolds = views.every(({ run: v }) => oofOf(v).fold.every((f, r) => f === oof.fold[r]));
  return {
    pid: oof.pid,
    columns: [
      ...views.map(({ sfx, run: v }) => ({ name: `label${sfx}`, type: 'DOUBLE' as const, values: oofOf(v).label })),
      ...(sharedFolds ? [{ name: 'fold', type: 'INTEGER' as const, values: oof.fold }] : views.map(({ sfx, run: v }) => ({ name: `fold${sfx}`, type: 'INTEGER' as const, values: oofOf(v).fold }))),
      ...views.flatMap(({ sfx, run: v }) => [
        ...v.models.filter((m) => m.oof && sameIds(m.oof.pid, oof.pid)).map((m) => ({ name: m.id + sfx, type: 'DOUBLE' as const, values: m.oof!.prediction })),
        ...(v.final.source === 'final' ? [{ name: `final${sfx}`, type: 'DOUBLE' as const, values: oofOf(v).prediction }] : []),
      ]),
    ],
  };
}

async function blockTable(db: ExportDb, b: Block, pids: readonly string[], split: readonly string[]): Promise<void> {
  const cols = b.names.length;
  const columns: ColumnSpec[] = [{ name: 'pid', type: 'VARCHAR' }, { name: 'split', type: 'VARCHAR' }, ...b.names.map((n) => ({ name: n, type: 'FLOAT' as const }))];
  const npy = openNpy(b.file);
  try {
    let rows = new Float32Array(0);
    await db.createTable(b.id, columns, pids.length, (first, k) => {
      if (rows.length < k * cols) rows = new Float32Array(k * cols);
      npy.readRows(first, k, rows);
      return [pids.slice(first, first + k), split.slice(first, first + k), ...b.names.map((_, j) => columnOf(rows, k, cols, j))];
    });
  } finally {
    npy.close();
  }
}

async function predTable(db: ExportDb, table: string, t: PredTable): Promise<void> {
  const columns: ColumnSpec[] = [{ name: 'pid', type: 'VARCHAR' }, ...t.columns.map((c) => ({ name: c.name, type: c.type }))];
  await db.createTable(table, columns, t.pid.length, (first, k) => [t.pid.slice(first, first + k), ...t.columns.map((c) => c.values.subarray(first, first + k))]);
}
