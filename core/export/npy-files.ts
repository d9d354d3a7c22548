/**
 * @file The `.npy` side of `smp export`: feature blocks as float32 `.npy` (the cache's own file,
 * copied), their column names (`<name>.columns.txt`) and post ids (`ids.txt`, one per row), the
 * joined table of all blocks streamed row chunk by row chunk (never one copy of it in memory),
 * and small float64 tables (labels, folds, predictions). numpy loads them with `np.load`.
 *
 * @example
 *   writeLines('out/ids.txt', pids);
 *   writeJoinedNpy('out/features.npy', [{ file: 'a.npy', cols: 3 }, { file: 'b.npy', cols: 512 }], rows);
 */
import { writeFileAtomic } from '../cache/atomic.ts';
import { openNpy, writeNpyChunks, type NpyReader } from '../cache/npy.ts';

/** Values per chunk of the joined file (16 MiB of float32). */
const JOIN_CHUNK_FLOATS = 4 * 1024 * 1024;

/** One value per line (ids, column names). */
export function writeLines(file: string, lines: readonly string[]): void {
  writeFileAtomic(file, lines.length ? lines.join('\n') + '\n' : '');
}

/**
 * The blocks side by side (row r of the result is row r of every block, in order), read and
 * written a few thousand rows at a time.
 */
export function writeJoinedNpy(file: string, blocks: readonly { file: string; cols: number }[], rows: number): void {
  const total = blocks.reduce((s, b) => s + b.cols, 0);
  const per = Math.max(1, Math.floor(JOIN_CHUNK_FLOATS / Math.max(1, total)));
  const readers: NpyReader[] = [];
  try {
    for (const b of blocks) readers.push(openNpy(b.file));
    readers.forEach((r, i) => {
      if (r.header.rows !== rows || r.header.cols !== blocks[i].cols) throw new Error(`${blocks[i].file}: ${r.header.rows} x ${r.header.cols}, expected ${rows} x ${blocks[i].cols}`);
    });
    const parts = blocks.map((b) => new Float32Array(per * b.cols));
    const out = new Float32Array(per * total);
    writeNpyChunks(file, rows, total, (write) => {
      for (let first = 0; first < rows; first += per) {
        const k = Math.min(per, rows - first);
        readers.forEach((r, i) => r.readRows(first, k, parts[i]));
        for (let row = 0; row < k; row++) {
          let at = row * total;
          blocks.forEach((b, i) => {
            out.set(parts[i].subarray(row * b.cols, (row + 1) * b.cols), at);
            at += b.cols;
          });
        }
        write(out.subarray(0, k * total));
      }
    });
  } finally {
    for (const r of readers) r.close();
  }
}
