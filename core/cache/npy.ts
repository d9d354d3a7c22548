/**
 * @file .npy (NumPy format 1.0) for float32 matrices, so cached blocks open in numpy:
 * `np.load('block.npy')`. Writes are atomic (temp file + rename).
 */
import fs from 'node:fs';
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
