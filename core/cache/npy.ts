/**
 * @file .npy (NumPy format 1.0) for float32 matrices, so cached blocks open in numpy:
 * `np.load('block.npy')`. Writes are atomic (temp file + rename).
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './atomic.ts';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

export function encodeNpy(data: Float32Array, rows: number, cols: number): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const total = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(head);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

export function writeNpy(file: string, data: Float32Array, rows: number, cols: number): void {
  writeFileAtomic(file, encodeNpy(data, rows, cols));
}

export function readNpy(file: string): { data: Float32Array; rows: number; cols: number } {
  const buf = fs.readFileSync(file);
  if (!buf.subarray(0, 6).equals(MAGIC)) throw new Error(`${file}: not a .npy file`);
  const len = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + len).toString('latin1');
  if (!header.includes("'<f4'")) throw new Error(`${file}: expected float32 (<f4), header ${header.trim()}`);
  const shape = /'shape': \((\d+), (\d+)\)/.exec(header);
  if (!shape) throw new Error(`${file}: expected a 2-d array, header ${header.trim()}`);
  const rows = Number(shape[1]);
  const cols = Number(shape[2]);
  const start = 10 + len;
  const bytes = buf.subarray(start, start + rows * cols * 4);
  if (bytes.length !== rows * cols * 4) throw new Error(`${file}: truncated (${bytes.length} of ${rows * cols * 4} bytes)`);
  const data = new Float32Array(rows * cols);
  Buffer.from(data.buffer).set(bytes);
  return { data, rows, cols };
}

/** A `.npy` float32 matrix written row chunk by row chunk (see createNpyWriter). */
export interface NpyWriter {
  /** Appends whole rows (length a multiple of cols), row-major. */
  write(rows: Float32Array): void;
  /** Checks the row count, closes and renames the temp file to its final name. */
  close(): void;
  /** Closes and deletes the temp file (after an error). */
  abort(): void;
}

/**
 * Writes a rows x cols float32 `.npy` in pieces, for matrices too big to hold whole: the header
 * first, then each chunk as it comes, through a temp file renamed on `close()` (atomic).
 *
 * @example
 *   const w = createNpyWriter('emb.npy', 1_000_000, 512);
 *   for (const chunk of chunks) w.write(chunk); // Float32Array of k * 512 values
 *   w.close();
 */
export function createNpyWriter(file: string, rows: number, cols: number): NpyWriter {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${writerCounter++}`;
  const fd = fs.openSync(tmp, 'w');
  let open = true;
  let written = 0;
  const finish = (): void => {
    if (open) fs.closeSync(fd);
    open = false;
  };
  try {
    fs.writeSync(fd, encodeNpy(new Float32Array(0), rows, cols));
  } catch (e) {
    finish();
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  return {
    write(chunk) {
      if (!open) throw new Error(`${file}: write after close`);
      if (chunk.length % cols !== 0) throw new Error(`${file}: chunk of ${chunk.length} values is not whole rows of ${cols}`);
      const n = chunk.length / cols;
      if (written + n > rows) throw new Error(`${file}: ${written + n} rows written, the header says ${rows}`);
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off, bytes.length - off);
      written += n;
    },
    close() {
      if (!open) throw new Error(`${file}: closed twice`);
      finish();
      if (written !== rows) {
        fs.rmSync(tmp, { force: true });
        throw new Error(`${file}: ${written} rows written, the header says ${rows}`);
      }
      fs.renameSync(tmp, file);
    },
    abort() {
      finish();
      fs.rmSync(tmp, { force: true });
    },
  };
}
let writerCounter = 0;
