/**
 * @file Reads named feature columns of a run from the block cache (`<workDir>/.cache/blocks/<key>/`,
 * keys from run.json `feature_keys`), for a sample of train rows, without loading whole blocks:
 * rows are read one by one at their offsets in `block.npy` (through the codec in
 * core/cache/npy.ts). Label-aware blocks are fitted per fold and never cached, so their columns
 * are simply not found.
 *
 * @example
 *   const cols = readFeatureColumns('/work', { time: 'ab12...' }, ['time.hour'], [0, 5, 9]);
 */
import fs from 'node:fs';
import path from 'node:path';
import { openNpy, type NpyReader } from '../cache/npy.ts';

/**
 * The cache folder of a run folder: run.json's `cache_dir` (the run's `--cache` / SMP_CACHE_DIR)
 * when it names one, else `<workDir>/.cache` of `<workDir>/runs/<pipeline>/<timestamp>`.
 */
export function cacheDirOf(runDir: string, info?: { cache_dir?: unknown }): string {
  if (typeof info?.cache_dir === 'string' && fs.existsSync(info.cache_dir)) return info.cache_dir;
  return path.join(path.resolve(runDir), '..', '..', '..', '.cache');
}

interface BlockFile {
  npy: NpyReader;
  names: string[];
}

function openBlock(dir: string): BlockFile | null {
  const metaFile = path.join(dir, 'meta.json');
  const file = path.join(dir, 'block.npy');
  if (!fs.existsSync(metaFile) || !fs.existsSync(file)) return null;
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { names?: string[] };
  const npy = openNpy(file);
  if (!meta.names || meta.names.length !== npy.header.cols) {
    npy.close();
    return null;
  }
  return { npy, names: meta.names };
}

/**
 * Columns named `<block id>.<column>` (as in importance.csv) for the given rows; names that no
 * cached block holds are left out of the result.
 */
export function readFeatureColumns(cacheDir: string, featureKeys: Record<string, string>, names: readonly string[], rows: readonly number[]): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  const byBlock = new Map<string, string[]>();
  for (const n of names) {
    // block ids never contain '.', so the first dot splits id from column
    const dot = n.indexOf('.');
    if (dot < 1) continue;
    const id = n.slice(0, dot);
    if (!featureKeys[id]) continue;
    byBlock.set(id, [...(byBlock.get(id) ?? []), n]);
  }
  for (const [id, wanted] of byBlock) {
    let b: BlockFile | null = null;
    try {
      b = openBlock(path.join(cacheDir, 'blocks', featureKeys[id]));
      if (!b) continue;
      const colIdx = wanted.map((n) => b!.names.indexOf(n.slice(id.length + 1)));
      const cols = wanted.map(() => new Float64Array(rows.length));
      const { rows: nRows, cols: nCols } = b.npy.header;
      const rowBuf = new Float32Array(nCols);
      let ok = true;
      for (let k = 0; k < rows.length; k++) {
        const r = rows[k];
        if (r >= nRows) {
          ok = false;
          break;
        }
        b.npy.readRows(r, 1, rowBuf);
        colIdx.forEach((c, j) => {
          if (c >= 0) cols[j][k] = rowBuf[c];
        });
      }
      if (ok) colIdx.forEach((c, j) => c >= 0 && out.set(wanted[j], cols[j]));
    } catch {
      // unreadable cache entry: leave these columns out
    } finally {
      b?.npy.close();
    }
  }
  return out;
}
