import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { npyHeaderBytes, writeNpy } from '../../core/cache/npy.ts';
import { BlockCache } from '../../core/cache/block-cache.ts';
import type { Matrix } from '../../core/matrix.ts';
import { Random } from '../../core/random.ts';
import { RunLog } from '../../core/report/run-log.ts';
import { UserError } from '../../core/errors.ts';
import { computeFeatures } from '../../core/pipeline/feature-stage.ts';
import { embeddings } from '../../features/embeddings.ts';
import { pca } from '../../features/pca.ts';
import { crossModal } from '../../features/cross-modal.ts';
import { tmpDir } from '../helpers.ts';
import { at, fakeContext, fakeTable } from './fake-context.ts';

const dir = tmpDir('embeddings');
const N = 8;
const DIM = 4;
const table = { ...fakeTable({ n: N, uid: ['a', 'a', 'a', 'b', 'b', 'c', 'c', 'c'] }), root: dir };
/** File order: shuffled, p3 absent, one id (zz) that is not a post. */
const ORDER = ['p5', 'p1', 'p7', 'p0', 'zz', 'p2', 'p6', 'p4'];

function vec(id: string): number[] {
  const k = id === 'zz' ? 99 : Number(id.slice(1));
  return [k + 1, ((k * 3) % 5) - 2, Math.sin(k), 0.5 * k - 1].map(Math.fround);
}

function write(name: string, text: string): string {
  fs.writeFileSync(path.join(dir, name), text);
  return name;
}

const compute = (params: Record<string, unknown>, log?: RunLog): Promise<Matrix> => {
  const ctx = fakeContext(table);
  return Promise.resolve(embeddings.compute(log ? { ...ctx, log } : ctx, embeddings.params.parse(params)));
};

beforeAll(async () => {
  const rows = ORDER.flatMap(vec);
  writeNpy(path.join(dir, 'emb.npy'), Float32Array.from(rows), ORDER.length, DIM);
  writeNpy(path.join(dir, 'emb8.npy'), Float64Array.from(rows), ORDER.length, DIM);
  write('ids.txt', ORDER.join('\n') + '\n');
  write('emb.csv', ['pid,a,b,c,d,name', ...ORDER.map((id) => `${id},${vec(id).join(',')},x${id}`)].join('\n') + '\n');
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run(`COPY (SELECT * FROM read_csv_auto('${path.join(dir, 'emb.csv')}', types = {'pid': 'VARCHAR'})) TO '${path.join(dir, 'emb.parquet')}' (FORMAT parquet)`);
  conn.closeSync();
  db.closeSync();
});

describe('embeddings', () => {
  it('joins shuffled rows by id; absent posts get zeros and the missing flag, counted with unknown ids', async () => {
    const log = new RunLog({ quiet: true });
    const m = await compute({ path: 'emb.npy', ids: 'ids.txt' }, log);
    expect(m.names).toEqual(['emb_0', 'emb_1', 'emb_2', 'emb_3', 'missing']);
    expect(m.rows).toBe(N);
    for (let r = 0; r < N; r++) {
      const row = Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols));
      expect(row).toEqual(r === 3 ? [0, 0, 0, 0, 1] : [...vec(`p${r}`), 0]);
    }
    expect(log.counters).toEqual({ 'embeddings.missing': 1, 'embeddings.unknown_ids': 1 });
  });

  it('float64 .npy, CSV and Parquet give the same block as float32 .npy; absolute paths too', async () => {
    const ref = await compute({ path: 'emb.npy', ids: 'ids.txt' });
    const f8 = await compute({ path: path.join(dir, 'emb8.npy'), ids: path.join(dir, 'ids.txt') });
    const csv = await compute({ path: 'emb.csv' });
    const pq = await compute({ path: 'emb.parquet', prefix: 'v_' });
    expect(csv.names).toEqual(['a', 'b', 'c', 'd', 'missing']); // the string column is left out
    expect(pq.names).toEqual(['v_a', 'v_b', 'v_c', 'v_d', 'missing']);
    for (const m of [f8, csv, pq]) expect(Array.from(m.data)).toEqual(Array.from(ref.data));
    const some = await compute({ path: 'emb.parquet', columns: ['c', 'a'] });
    expect(some.names).toEqual(['c', 'a', 'missing']);
    expect(at(some, 1, 'a')).toBe(vec('p1')[0]);
    expect(at(some, 1, 'c')).toBe(vec('p1')[2]);
  });

  it('errors name the file (and line or row): duplicates, row-count mismatch, shape, missing file, bad columns', async () => {
    write('dup.txt', ['p5', 'p1', 'p7', 'p1', 'zz', 'p2', 'p6', 'p4'].join('\n'));
    await expect(compute({ path: 'emb.npy', ids: 'dup.txt' })).rejects.toThrow(/dup\.txt:4: duplicate id "p1" \(first at .*dup\.txt:2\)/);
    write('dupzz.txt', ['p5', 'zz', 'p7', 'p0', 'zz', 'p2', 'p6', 'p4'].join('\n'));
    await expect(compute({ path: 'emb.npy', ids: 'dupzz.txt' })).rejects.toThrow(/dupzz\.txt:5: duplicate id "zz"/);
    write('dup.csv', 'pid,a\np0,1\np1,2\np0,3\n');
    await expect(compute({ path: 'dup.csv' })).rejects.toThrow(/dup\.csv row 3: duplicate id "p0" \(first at .*dup\.csv row 1\)/);
    write('short.txt', ORDER.slice(0, 5).join('\n') + '\n');
    await expect(compute({ path: 'emb.npy', ids: 'short.txt' })).rejects.toThrow(/emb\.npy has 8 rows but .*short\.txt has 5 ids/);
    fs.writeFileSync(path.join(dir, 'flat.npy'), Buffer.concat([npyHeaderBytes([8]), Buffer.alloc(32)]));
    await expect(compute({ path: 'flat.npy', ids: 'ids.txt' })).rejects.toThrow(/flat\.npy: is a 1-D array of shape \(8,\)/);
    await expect(compute({ path: 'nope.npy', ids: 'ids.txt' })).rejects.toThrow(new RegExp(`${path.join(dir, 'nope.npy')}: file not found`));
    await expect(compute({ path: 'emb.npy' })).rejects.toThrow(/needs params\.ids/);
    await expect(compute({ path: 'emb.csv', columns: ['a', 'zz'] })).rejects.toThrow(/emb\.csv: unknown column "zz"/);
    await expect(compute({ path: 'emb.csv', columns: ['a', 'name'] })).rejects.toThrow(/emb\.csv: column "name" is VARCHAR, not numeric/);
    await expect(compute({ path: 'emb.csv', id_column: 'post' })).rejects.toThrow(/emb\.csv: no id column "post"/);
    await expect(compute({ path: 'emb.csv' }).catch((e) => e)).resolves.not.toBeInstanceOf(Error);
    await expect(compute({ path: 'dup.csv' }).catch((e) => e)).resolves.toBeInstanceOf(UserError);
    expect(() => embeddings.params.parse({ path: 'x.npy', bogus: 1 })).toThrow();
  });

  it('feeds pca and cross-modal like a clip-image block', async () => {
    const asInput = (id: string, m: Matrix): Matrix => ({ ...m, names: m.names.map((n) => `${id}.${n}`) });
    const img = asInput('img', await compute({ path: 'emb.npy', ids: 'ids.txt' }));
    const tit = asInput('tit', await compute({ path: 'emb.csv' }));
    const p = (await pca.compute(fakeContext(table, { img }), pca.params.parse({ components: 2 }))) as Matrix;
    expect(at(p, 3, 'pc0')).toBeNaN(); // the absent post
    for (const r of [0, 1, 2, 4, 5, 6, 7]) expect(Number.isFinite(at(p, r, 'pc0'))).toBe(true);
    const x = (await crossModal.compute(fakeContext(table, { img, tit }), crossModal.params.parse({ image: 'img', title: 'tit', category: null }))) as Matrix;
    expect(at(x, 0, 'cos_image_title')).toBeCloseTo(1, 6); // same vectors
    expect(at(x, 3, 'cos_image_title')).toBeNaN();
    expect(at(x, 4, 'image_user_loo_cos')).toBeNaN(); // user b's other post (p3) has no vector
  });

  it("the files' content is part of the cache key", async () => {
    const cache = new BlockCache(path.join(dir, 'cache'));
    const entries = [{ id: 'img', kind: 'embeddings', inputs: [], params: embeddings.params.parse({ path: 'emb.npy', ids: 'ids.txt' }) }];
    const run = () => computeFeatures({ entries, keep: new Set(['img']), table, fingerprint: 'f', rng: new Random(1), log: new RunLog({ quiet: true }), cache, modelsDir: dir });
    const a = await run();
    expect((await run()).keys).toEqual(a.keys);
    const rows = ORDER.flatMap(vec).map((v) => v * 2);
    writeNpy(path.join(dir, 'emb.npy'), Float32Array.from(rows), ORDER.length, DIM);
    fs.utimesSync(path.join(dir, 'emb.npy'), new Date(), new Date(Date.now() + 10_000));
    const b = await run();
    expect(b.keys.img).not.toBe(a.keys.img);
    expect(at(b.fixed.get('img')!, 0, 'img.emb_0')).toBe(2 * vec('p0')[0]);
    expect(embeddings.inputFiles!(table, entries[0].params as never)).toEqual([path.join(dir, 'emb.npy'), path.join(dir, 'ids.txt')]);
  });
});
