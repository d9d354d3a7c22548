/**
 * @file The kit's one .npy codec (NumPy format 1.0, 2.0 and 3.0 headers), so cached blocks open
 * in numpy (`np.load('block.npy')`) and numpy arrays feed the kit. Arrays are 2-D, C order,
 * little-endian float32 (`<f4`) or float64 (`<f8`, converted to float32 chunk by chunk, never
 * as a whole float64 copy). Files of any size: reads and writes go through a file handle in
 * chunks (`chunkBytes`, default 16 MiB), never as one Buffer (readFileSync stops at 2 GiB).
 * Writes go to a temp name and are renamed into place, so a crash never leaves a half file.
 *
 * @example
 *   writeNpy('block.npy', data, rows, cols);
 *   const { data, rows, cols } = readNpy('block.npy');
 *   readNpyHeader('emb.npy'); // { rows, cols, dtype: '<f8', dataOffset: 128, ... }
 *   forEachNpyChunk('emb.npy', 4096, (chunk, firstRow, nRows) => { ... }); // chunk is reused
 */
import fs from 'node:fs';
import os from 'node:os';
import { withAtomicFile } from './atomic.ts';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** Default bytes per read or write call. */
export const NPY_CHUNK_BYTES = 16 * 1024 * 1024;

export type NpyDtype = '<f4' | '<f8';

export interface NpyOptions {
  /** Bytes per read/write call (any size >= 1; tests force tiny ones). */
  chunkBytes?: number;
}

export interface NpyHeader {
  readonly file: string;
  /** Format version (major): 1, 2 or 3. */
  readonly version: number;
  readonly dtype: NpyDtype;
  readonly rows: number;
  readonly cols: number;
  /** Byte offset of the first element. */
  readonly dataOffset: number;
}

function fail(file: string, why: string): never {
  throw new Error(`${file}: ${why}`);
}

function itemSize(dtype: NpyDtype): number {
  return dtype === '<f4' ? 4 : 8;
}

function checkHost(file: string): void {
  if (os.endianness() !== 'LE') fail(file, 'the .npy codec needs a little-endian machine');
}

/** Reads exactly `length` bytes at `position` into `into` (readSync may return fewer). */
function readExactly(fd: number, file: string, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) fail(file, `truncated: expected ${into.length - done} more bytes at offset ${position + done}`);
    done += n;
  }
}

function parseHeader(file: string, text: string, version: number, dataOffset: number, fileSize: number): NpyHeader {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(file, `not a valid .npy header: ${text.trim()}`);
  if (descr !== '<f4' && descr !== '<f8') fail(file, `dtype ${descr}; expected float32 (<f4) or float64 (<f8), e.g. np.save(f, a.astype('float32'))`);
  if (fortran === 'True') fail(file, "is in Fortran order; save a C-order array (np.save(f, np.ascontiguousarray(a)))");
  const shape = shapeText
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s !== '')
    .map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(file, `bad shape (${shapeText})`);
  if (shape.length !== 2) fail(file, `is a ${shape.length}-D array of shape (${shape.join(', ')}${shape.length === 1 ? ',' : ''}); expected a 2-D array (rows, columns)`);
  const [rows, cols] = shape;
  const need = dataOffset + rows * cols * itemSize(descr);
  if (fileSize < need) fail(file, `truncated: ${fileSize} bytes, the header says ${need}`);
  return { file, version, dtype: descr, rows, cols, dataOffset };
}

function readHeaderFd(fd: number, file: string): NpyHeader {
  checkHost(file);
  const size = fs.fstatSync(fd).size;
  if (size < 10) fail(file, 'not a .npy file (too short)');
  const pre = new Uint8Array(12);
  readExactly(fd, file, pre.subarray(0, Math.min(12, size)), 0);
  const b = Buffer.from(pre.buffer);
  if (!b.subarray(0, 6).equals(MAGIC)) fail(file, 'not a .npy file (no \\x93NUMPY magic)');
  const major = b[6];
  if (major !== 1 && major !== 2 && major !== 3) fail(file, `.npy format version ${major}.${b[7]} is not supported (1.0, 2.0, 3.0 are)`);
  const lenAt = major === 1 ? 2 : 4;
  if (size < 8 + lenAt) fail(file, 'not a .npy file (too short)');
  const len = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = 8 + lenAt;
  if (size < start + len) fail(file, 'truncated header');
  const head = Buffer.alloc(len);
  readExactly(fd, file, head, start);
  return parseHeader(file, head.toString(major === 3 ? 'utf8' : 'latin1'), major, start + len, size);
}

/** Shape, dtype and data offset of a 2-D float .npy; errors name the file. */
export function readNpyHeader(file: string): NpyHeader {
  const fd = fs.openSync(file, 'r');
  try {
    return readHeaderFd(fd, file);
  } finally {
    fs.closeSync(fd);
  }
}

/** An open .npy file: read any run of rows as float32. Close it when done. */
export class NpyReader {
  private readonly chunkBytes: number;
  private scratch: Uint8Array | null = null;

  private constructor(
    private fd: number,
    readonly header: NpyHeader,
    opts: NpyOptions,
  ) {
    this.chunkBytes = Math.max(1, Math.floor(opts.chunkBytes ?? NPY_CHUNK_BYTES));
  }

  static open(file: string, opts: NpyOptions = {}): NpyReader {
    const fd = fs.openSync(file, 'r');
    try {
      return new NpyReader(fd, readHeaderFd(fd, file), opts);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** Rows [firstRow, firstRow + nRows) into `out` (allocated when not given), row-major float32. */
  readRows(firstRow: number, nRows: number, out?: Float32Array): Float32Array {
    const { rows, cols, dtype, dataOffset, file } = this.header;
    if (firstRow < 0 || nRows < 0 || firstRow + nRows > rows) fail(file, `rows ${firstRow}..${firstRow + nRows} out of range (${rows} rows)`);
    const n = nRows * cols;
    const target = out ?? new Float32Array(n);
    if (target.length < n) throw new Error(`npy readRows: buffer of ${target.length} floats for ${n}`);
    const size = itemSize(dtype);
    const position = dataOffset + firstRow * cols * size;
    if (dtype === '<f4') {
      // straight into the target's bytes, chunkBytes at a time
      const bytes = new Uint8Array(target.buffer, target.byteOffset, n * 4);
      for (let at = 0; at < bytes.length; at += this.chunkBytes) readExactly(this.fd, file, bytes.subarray(at, Math.min(bytes.length, at + this.chunkBytes)), position + at);
      return target;
    }
    // float64: whole elements per chunk, converted into the float32 target
    const per = Math.max(1, Math.floor(this.chunkBytes / 8));
    if (!this.scratch || this.scratch.length < Math.min(per, n) * 8) this.scratch = new Uint8Array(Math.min(per, Math.max(1, n)) * 8);
    const f64 = new Float64Array(this.scratch.buffer);
    for (let at = 0; at < n; at += per) {
      const k = Math.min(per, n - at);
      readExactly(this.fd, file, this.scratch.subarray(0, k * 8), position + at * 8);
      for (let i = 0; i < k; i++) target[at + i] = f64[i];
    }
    return target;
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** Opens a .npy for reading rows (see NpyReader). */
export function openNpy(file: string, opts: NpyOptions = {}): NpyReader {
  return NpyReader.open(file, opts);
}

/** The whole array as one float32 matrix. */
export function readNpy(file: string, opts: NpyOptions = {}): { data: Float32Array; rows: number; cols: number } {
  const r = openNpy(file, opts);
  try {
    const { rows, cols } = r.header;
    return { data: r.readRows(0, rows), rows, cols };
  } finally {
    r.close();
  }
}

/**
 * Calls `fn` for each run of up to `rowsPerChunk` rows, in order. `data` holds nRows x cols
 * float32 values and is reused between calls: copy what you keep. Returns the header.
 */
export function forEachNpyChunk(file: string, rowsPerChunk: number, fn: (data: Float32Array, firstRow: number, nRows: number) => void, opts: NpyOptions = {}): NpyHeader {
  const r = openNpy(file, opts);
  try {
    const { rows, cols } = r.header;
    const per = Math.max(1, Math.min(rows, Math.floor(rowsPerChunk)));
    const buf = new Float32Array(per * cols);
    for (let first = 0; first < rows; first += per) {
      const k = Math.min(per, rows - first);
      fn(r.readRows(first, k, buf).subarray(0, k * cols), first, k);
    }
    return r.header;
  } finally {
    r.close();
  }
}

/**
 * Header bytes (magic, version, length, dict padded to a multiple of 64) for an array of
 * `shape`. Version 1.0 unless the dict needs more than 65535 bytes (then 2.0) or a version is
 * asked for; `fortranOrder` exists for tests of the reader.
 */
export function npyHeaderBytes(shape: readonly number[], opts: { dtype?: NpyDtype; fortranOrder?: boolean; version?: 1 | 2 | 3 } = {}): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  const dict = `{'descr': '${opts.dtype ?? '<f4'}', 'fortran_order': ${opts.fortranOrder ? 'True' : 'False'}, 'shape': (${dims}), }`;
  let version = opts.version ?? 1;
  if (version === 1 && dict.length + 11 > 0xffff) version = 2;
  const pre = 8 + (version === 1 ? 2 : 4);
  const text = dict + ' '.repeat((64 - ((pre + dict.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(pre);
  MAGIC.copy(head);
  head[6] = version;
  head[7] = 0;
  if (version === 1) head.writeUInt16LE(text.length, 8);
  else head.writeUInt32LE(text.length, 8);
  return Buffer.concat([head, Buffer.from(text, version === 3 ? 'utf8' : 'latin1')]);
}

function checkSize(data: ArrayLike<number>, rows: number, cols: number): void {
  if (data.length !== rows * cols) throw new Error(`npy: ${data.length} values for ${rows} x ${cols}`);
}

/** A small array as one Buffer (tests, fixtures); files go through writeNpy. */
export function encodeNpy(data: Float32Array, rows: number, cols: number): Buffer {
  checkSize(data, rows, cols);
  return Buffer.concat([npyHeaderBytes([rows, cols]), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/** Writes a float32 (or, for tests, float64) matrix as .npy: header, then chunks; atomic. */
export function writeNpy(file: string, data: Float32Array | Float64Array, rows: number, cols: number, opts: NpyOptions & { version?: 1 | 2 | 3 } = {}): void {
  checkHost(file);
  checkSize(data, rows, cols);
  const chunk = Math.max(1, Math.floor(opts.chunkBytes ?? NPY_CHUNK_BYTES));
  const header = npyHeaderBytes([rows, cols], { dtype: data instanceof Float64Array ? '<f8' : '<f4', version: opts.version });
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  withAtomicFile(file, (fd) => {
    writeAll(fd, header);
    for (let at = 0; at < bytes.length; at += chunk) writeAll(fd, bytes.subarray(at, Math.min(bytes.length, at + chunk)));
  });
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done);
}

/**
 * Writes a rows x cols float32 `.npy` from chunks, for matrices too big to hold whole: `fill`
 * passes whole rows (row-major) to `write` in order; the header goes first, each chunk straight
 * to the file; the row count is checked at the end; atomic (temp file + rename).
 *
 * @example
 *   writeNpyChunks('emb.npy', 1_000_000, 512, (write) => {
 *     for (const chunk of chunks) write(chunk); // Float32Array of k * 512 values
 *   });
 */
export function writeNpyChunks(file: string, rows: number, cols: number, fill: (write: (chunk: Float32Array) => void) => void): void {
  checkHost(file);
  withAtomicFile(file, (fd) => {
    writeAll(fd, npyHeaderBytes([rows, cols]));
    let written = 0;
    fill((chunk) => {
      if (chunk.length % cols !== 0) fail(file, `a chunk of ${chunk.length} values is not whole rows of ${cols}`);
      written += chunk.length / cols;
      if (written > rows) fail(file, `${written} rows written, the header says ${rows}`);
      writeAll(fd, new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
    if (written !== rows) fail(file, `${written} rows written, the header says ${rows}`);
  });
}
