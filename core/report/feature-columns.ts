/**
 * @file Reads named feature columns of a run from the block cache (`<workDir>/.cache/blocks/<key>/`,
 * keys from run.json `feature_keys`), for a sample of train rows, without loading whole blocks:
 * rows are read one by one at their offsets in `block.npy` (float32, row-major; see
 * core/cache/npy.ts). Label-aware blocks are fitted per fold and never cached, so their columns
 * are simply not found.
 *
 * @example
 *   const cols = readFeatureColumns('/work', { time: 'ab12...' }, ['time.hour'], [0, 5, 9]);
 */
import fs from 'node:fs';
import path from 'node:path';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** The cache folder of a run folder `<workDir>/runs/<pipeline>/<timestamp>`. */
export function cacheDirOf(runDir: string): string {
  return path.join(path.resolve(runDir), '..', '..', '..', '.cache');
}

interface BlockFile {
  fd: number;
  rows: number;
  cols: number;
  dataStart: number;
  names: string[];
}

function openBlock(dir: string): BlockFile | null {
  const metaFile = path.join(dir, 'meta.json');
  const npy = path.join(dir, 'block.npy');
  if (!fs.existsSync(metaFile) || !fs.existsSync(npy)) return null;
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { names?: string[] };
  const fd = fs.openSync(npy, 'r');
  const head = Buffer.alloc(10);
  fs.readSync(fd, head, 0, 10, 0);
  if (!head.subarray(0, 6).equals(MAGIC)) {
    fs.closeSync(fd);
    return null;
  }
  const len = head.readUInt16LE(8);
  const hb = Buffer.alloc(len);
  fs.readSync(fd, hb, 0, len, 10);
  const header = hb.toString('latin1');
  const shape = /'shape': \((\d+), (\d+)\)/.exec(header);
  if (!header.includes("'<f4'") || !shape || !meta.names || meta.names.length !== Number(shape[2])) {
    fs.closeSync(fd);
    return null;
  }
  return { fd, rows: Number(shape[1]), cols: Number(shape[2]), dataStart: 10 + len, names: meta.names };
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
      const rowBuf = Buffer.alloc(b.cols * 4);
      let ok = true;
      for (let k = 0; k < rows.length; k++) {
        const r = rows[k];
        if (r >= b.rows) {
          ok = false;
          break;
        }
        fs.readSync(b.fd, rowBuf, 0, rowBuf.length, b.dataStart + r * b.cols * 4);
        colIdx.forEach((c, j) => {
          if (c >= 0) cols[j][k] = rowBuf.readFloatLE(c * 4);
        });
      }
      if (ok) colIdx.forEach((c, j) => c >= 0 && out.set(wanted[j], cols[j]));
    } catch {
      // unreadable cache entry: leave these columns out
    } finally {
      if (b) fs.closeSync(b.fd);
    }
  }
  return out;
}
