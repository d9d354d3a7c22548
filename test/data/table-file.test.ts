/**
 * @file The table track reader: CSV and Parquet give the same Table, column roles are inferred
 * and overridable, test rows come from a split column, from empty labels, or from a test file,
 * and bad cells are errors naming the file, row and column. Small files: a few seconds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTableFile } from '../../core/data/table-file.ts';
import { withDuckDb, sqlString } from '../../core/data/duckdb.ts';
import { readDataset } from '../../core/data/read-dataset.ts';
import { tmpDir, writeFile } from '../helpers.ts';

const HEADER = 'id,when,score,code,style,caption,picture,flag,label,split';
const ROWS = [
  '007,2021-03-04 10:00:00,1.5,3,anime,a small cat sleeping on the warm roof,img/a.jpg,true,1,train',
  '008,2021-03-05 11:30:00,,4,pixel,two dogs running along the beach at dawn,img/b.png,false,0,test',
  '009,2021-03-06 12:00:00,2.5,3,anime,an old man reading his paper in the park,img/c.JPG,true,0,train',
  '010,2021-03-07 13:00:00,-1,5,abstract,city lights seen from far above at night,img/d.jpeg,,,train',
  '011,2021-03-08 14:00:00,0.25,4,pixel,the moon over a quiet lake in the hills,img/e.webp,false,1,test',
];

let dir: string;
let csv: string;
let parquet: string;

beforeAll(async () => {
  dir = tmpDir('table');
  // Row 4 (010) has an empty label but says train: only valid without the split column.
  csv = writeFile(path.join(dir, 'one', 'data.csv'), [HEADER, ...ROWS.map((r, i) => (i === 3 ? r.replace(',,train', ',1,train') : r))].join('\n') + '\n');
  parquet = path.join(dir, 'pq', 'data.parquet');
  fs.mkdirSync(path.dirname(parquet), { recursive: true });
  await withDuckDb(async (conn) => {
    await conn.run(`COPY (SELECT * FROM read_csv_auto(${sqlString(csv)}, header = true, types = {'id': 'VARCHAR'})) TO ${sqlString(parquet)} (FORMAT parquet)`);
  });
});

const spec = { id: 'id', label: 'label', split: 'split', time: 'when' };

describe('table track reader', () => {
  it('reads CSV and Parquet into the same Table, train rows first, with inferred roles', async () => {
    const a = await readTableFile(csv, spec);
    const b = await readTableFile(parquet, spec);
    expect(a.track).toBe('table');
    expect(a.pid).toEqual(['007', '009', '010', '008', '011']); // ids keep their zeros
    expect([a.nTrain, a.nTest]).toEqual([3, 2]);
    expect(Array.from(a.label)).toEqual([1, 0, 1, NaN, NaN]); // test labels are never read
    expect(a.roles).toEqual({ score: 'numeric', code: 'numeric', flag: 'numeric', style: 'categorical', caption: 'text', picture: 'image' });
    expect(Array.from((a.columns.score as { values: Float64Array }).values)).toEqual([1.5, 2.5, -1, NaN, 0.25]);
    expect(Array.from((a.columns.flag as { values: Float64Array }).values)).toEqual([1, 1, NaN, 0, 0]);
    expect((a.columns.style as { values: string[] }).values).toEqual(['anime', 'anime', 'abstract', 'pixel', 'pixel']);
    // the time column is postdate (unix seconds, UTC); image paths resolve against the file's folder
    expect((a.columns.postdate as { values: Float64Array }).values[0]).toBe(Date.UTC(2021, 2, 4, 10) / 1000);
    expect(a.media[0]).toBe(path.join(dir, 'one', 'img', 'a.jpg'));
    expect(a.root).toBe(path.dirname(csv));
    expect(b.pid).toEqual(a.pid);
    expect(Array.from(b.label)).toEqual(Array.from(a.label));
    expect(b.roles).toEqual(a.roles);
    for (const c of Object.keys(a.columns)) expect(b.columns[c], c).toEqual(a.columns[c]);
    // through readDataset, as a pipeline reads it
    const c = await readDataset(csv, { track: 'table', table: spec });
    expect(c.pid).toEqual(a.pid);
  });

  it('data.columns overrides the inferred roles; ignore drops a column', async () => {
    const t = await readTableFile(csv, { ...spec, columns: { code: 'categorical', caption: 'ignore', style: 'text' } });
    expect(t.roles).toEqual({ score: 'numeric', code: 'categorical', flag: 'numeric', style: 'text', picture: 'image' });
    expect((t.columns.code as { values: string[] }).values).toEqual(['3', '3', '5', '4', '4']);
    expect(t.columns.caption).toBeUndefined();
    await expect(readTableFile(csv, { ...spec, columns: { nope: 'numeric' } })).rejects.toThrow(/data\.columns\.nope: no column "nope" in .*data\.csv; columns: id, when, score/);
    await expect(readTableFile(csv, { ...spec, columns: { label: 'numeric' } })).rejects.toThrow(/data\.columns\.label: "label" is the data\.label column/);
    // a string column forced numeric: the first bad cell, by row and column
    await expect(readTableFile(csv, { ...spec, columns: { style: 'numeric' } })).rejects.toThrow(/data\.csv: row 1 \(line 2\), column "style": "anime" is not a number/);
  });

  it('without a split column, rows with an empty label are the test rows', async () => {
    const f = writeFile(path.join(dir, 'nosplit.csv'), [HEADER.replace(',split', ''), ...ROWS.map((r) => r.replace(/,(train|test)$/, ''))].join('\n') + '\n');
    const t = await readTableFile(f, { id: 'id', label: 'label' });
    expect(t.pid).toEqual(['007', '008', '009', '011', '010']);
    expect([t.nTrain, t.nTest]).toEqual([4, 1]);
    expect(t.uid).toEqual(t.pid); // no group column: every row its own group
  });

  it('reads a folder with train and test files; the test file may lack the label', async () => {
    const folder = path.join(dir, 'pair');
    writeFile(path.join(folder, 'train.csv'), 'id,x,artist,label\na,1,ann,0\nb,2,bob,1\nc,3,ann,1\n');
    writeFile(path.join(folder, 'test.csv'), 'id,x,artist\nd,4,bob\ne,5,cy\n');
    const t = await readTableFile(folder, { id: 'id', label: 'label', group: 'artist' });
    expect(t.pid).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect([t.nTrain, t.nTest]).toEqual([3, 2]);
    expect(t.uid).toEqual(['ann', 'bob', 'ann', 'bob', 'cy']);
    expect(t.roles).toEqual({ x: 'numeric' }); // the group column is not a feature column
    expect(t.sources).toEqual([path.join(folder, 'train.csv'), path.join(folder, 'test.csv')]);
  });

  it('errors name the file, the row and the column', async () => {
    const bad = (name: string, lines: string[]) => writeFile(path.join(dir, 'bad', name), lines.join('\n') + '\n');
    const head = 'id,x,label,split';
    await expect(readTableFile(bad('split.csv', [head, 'a,1,0,train', 'b,2,1,valid']), { id: 'id', label: 'label', split: 'split' })).rejects.toThrow(
      /split\.csv: row 2 \(line 3\), column "split": split "valid" is neither train nor test/,
    );
    await expect(readTableFile(bad('label.csv', [head, 'a,1,0,train', 'b,2,yes,train']), { id: 'id', label: 'label', split: 'split' })).rejects.toThrow(
      /label\.csv: row 2 \(line 3\), column "label": "yes" is not a number/,
    );
    await expect(readTableFile(bad('empty.csv', [head, 'a,1,0,train', 'b,2,,train']), { id: 'id', label: 'label', split: 'split' })).rejects.toThrow(
      /empty\.csv: row 2 \(line 3\), column "label": empty label in a train row/,
    );
    await expect(readTableFile(bad('dup.csv', [head, 'a,1,0,train', 'b,2,1,train', 'a,3,1,test']), { id: 'id', label: 'label', split: 'split' })).rejects.toThrow(
      /dup\.csv: row 3 \(line 4\), column "id": duplicate id "a" \(first at .*dup\.csv: row 1 \(line 2\)\)/,
    );
    await expect(readTableFile(bad('noid.csv', [head, 'a,1,0,train']), { id: 'key', label: 'label' })).rejects.toThrow(/noid\.csv: no id column "key" \(data\.id\); columns: id, x, label, split/);
    await expect(readTableFile(path.join(dir, 'bad'), { id: 'id', label: 'label' })).rejects.toThrow(/expected one \.csv \/ \.parquet file, or train\.<csv\|parquet> and test\.<csv\|parquet>/);
  });
});
