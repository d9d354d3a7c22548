import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy, forEachNpyChunk, npyHeaderBytes, readNpy, readNpyHeader, writeNpy } from '../../core/cache/npy.ts';
import { BlockCache, fingerprintFiles } from '../../core/cache/block-cache.ts';
import { createMatrix } from '../../core/matrix.ts';
import { tmpDir } from '../helpers.ts';

const dir = tmpDir('npy');

function matrix(rows: number, cols: number): Float32Array {
  return Float32Array.from({ length: rows * cols }, (_, i) => Math.fround(Math.sin(i) * 100 + i / 7));
}

/** A raw .npy with any header, for the reader's error paths. */
function rawNpy(name: string, shape: number[], opts: Parameters<typeof npyHeaderBytes>[1], body: Uint8Array): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, Buffer.concat([npyHeaderBytes(shape, opts), body]));
  return f;
}

describe('npy codec', () => {
  it('round-trips through tiny, odd chunks (smaller than a row) and leaves no temp file', () => {
    const data = matrix(13, 5);
    const f = path.join(dir, 'a.npy');
    for (const chunkBytes of [1, 3, 7, 19, 64, 1 << 20]) {
      writeNpy(f, data, 13, 5, { chunkBytes });
      expect(fs.readFileSync(f)).toEqual(encodeNpy(data, 13, 5)); // same bytes however chunked
      const back = readNpy(f, { chunkBytes: 7 });
      expect([back.rows, back.cols]).toEqual([13, 5]);
      expect(Array.from(back.data)).toEqual(Array.from(data));
    }
    expect(fs.readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    const h = readNpyHeader(f);
    expect(h).toMatchObject({ version: 1, dtype: '<f4', rows: 13, cols: 5 });
    expect(h.dataOffset % 64).toBe(0);
    expect(fs.statSync(f).size).toBe(h.dataOffset + 13 * 5 * 4);
  });

  it('reads row chunks in order, the last one short', () => {
    const data = matrix(10, 3);
    const f = path.join(dir, 'rows.npy');
    writeNpy(f, data, 10, 3);
    const seen: [number, number, number[]][] = [];
    forEachNpyChunk(f, 4, (chunk, first, n) => seen.push([first, n, Array.from(chunk)]), { chunkBytes: 5 });
    expect(seen.map(([a, b]) => [a, b])).toEqual([
      [0, 4],
      [4, 4],
      [8, 2],
    ]);
    expect(seen.flatMap(([, , v]) => v)).toEqual(Array.from(data));
  });

  it('reads float64 as float32, chunk by chunk, and v2.0 / v3.0 headers', () => {
    const f64 = Float64Array.from({ length: 7 * 3 }, (_, i) => Math.PI * i - 3.3);
    const f = path.join(dir, 'f8.npy');
    writeNpy(f, f64, 7, 3, { version: 2 });
    expect(readNpyHeader(f)).toMatchObject({ version: 2, dtype: '<f8', rows: 7, cols: 3 });
    for (const chunkBytes of [3, 8, 20, 1 << 20]) {
      const { data } = readNpy(f, { chunkBytes });
      expect(data).toBeInstanceOf(Float32Array);
      expect(Array.from(data)).toEqual(Array.from(Float32Array.from(f64)));
    }
    const g = path.join(dir, 'v3.npy');
    writeNpy(g, matrix(2, 2), 2, 2, { version: 3 });
    expect(readNpyHeader(g).version).toBe(3);
    expect(Array.from(readNpy(g).data)).toEqual(Array.from(matrix(2, 2)));
  });

  it('refuses 1-D and 3-D arrays, Fortran order, other dtypes and truncated files, naming the file', () => {
    const one = rawNpy('one.npy', [4], {}, new Uint8Array(16));
    expect(() => readNpy(one)).toThrow(new RegExp(`${one}: is a 1-D array of shape \\(4,\\); expected a 2-D`));
    const three = rawNpy('three.npy', [2, 2, 2], {}, new Uint8Array(32));
    expect(() => readNpyHeader(three)).toThrow(/three\.npy: is a 3-D array of shape \(2, 2, 2\)/);
    const fortran = rawNpy('fortran.npy', [2, 2], { fortranOrder: true }, new Uint8Array(16));
    expect(() => readNpy(fortran)).toThrow(/fortran\.npy: is in Fortran order/);
    const f2 = path.join(dir, 'i4.npy');
    fs.writeFileSync(f2, Buffer.from(npyHeaderBytes([2, 2]).toString('latin1').replace("'<f4'", "'<i4'"), 'latin1'));
    expect(() => readNpy(f2)).toThrow(/i4\.npy: dtype <i4; expected float32/);
    const short = rawNpy('short.npy', [3, 3], {}, new Uint8Array(20));
    expect(() => readNpy(short)).toThrow(/short\.npy: truncated/);
    const text = path.join(dir, 'text.npy');
    fs.writeFileSync(text, 'hello, world');
    expect(() => readNpy(text)).toThrow(/text\.npy: not a \.npy file/);
  });
});

describe('block cache', () => {
  it('an unreadable entry is a warning naming its path and the reason, then null', () => {
    const warnings: string[] = [];
    const cache = new BlockCache(path.join(dir, 'cache'), (m) => warnings.push(m));
    const m = createMatrix(3, 2, ['a', 'b']);
    m.data.set([1, 2, 3, 4, 5, 6]);
    cache.put('k1', m, {});
    expect(Array.from(cache.get('k1')!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(cache.get('nope')).toBeNull(); // absent: no warning
    expect(warnings).toEqual([]);
    const npy = path.join(dir, 'cache', 'blocks', 'k1', 'block.npy');
    fs.truncateSync(npy, fs.statSync(npy).size - 4);
    expect(cache.get('k1')).toBeNull();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(path.join(dir, 'cache', 'blocks', 'k1'));
    expect(warnings[0]).toMatch(/truncated.*recomputing/);
  });

  it('fingerprints files by content, read in chunks', () => {
    const a = path.join(dir, 'fa.bin');
    fs.writeFileSync(a, Buffer.alloc(100, 1));
    const fp = fingerprintFiles([a]);
    fs.writeFileSync(a, Buffer.alloc(100, 2));
    fs.utimesSync(a, new Date(), new Date(Date.now() + 5000));
    expect(fingerprintFiles([a])).not.toBe(fp);
  });
});
