import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthVideo } from '../../core/data/synth-video.ts';
import { readDataset } from '../../core/data/read-dataset.ts';
import { renderSubmission, VIDEO_HEADER_2026 } from '../../core/submit/write.ts';
import { inferTrack, validateSubmissionText } from '../../core/submit/validate.ts';
import { zipFile } from '../../core/submit/zip.ts';
import { REPO, tmpDir, writeFile } from '../helpers.ts';

const PIDS = ['101', '102', '103', '104'];
const EXTERNAL = { used: 'false' as const, details: '' };

function image(pids: string[], scores: number[]): string {
  return JSON.stringify({ version: 'VERSION 1.2', result: pids.map((p, i) => ({ post_id: `post${p}`, popularity_score: scores[i] })), external_data: EXTERNAL });
}

describe('submission writer', () => {
  it('writes the image-track JSON in order with post ids', () => {
    const text = renderSubmission({ track: 'image', pids: PIDS, scores: [1, 2, 3, 4.1234567], version: 'VERSION 1.2', externalData: EXTERNAL });
    const doc = JSON.parse(text);
    expect(doc.version).toBe('VERSION 1.2');
    expect(doc.result.map((r: { post_id: string }) => r.post_id)).toEqual(['post101', 'post102', 'post103', 'post104']);
    expect(doc.result[3].popularity_score).toBe(4.123457);
    expect(doc.external_data).toEqual(EXTERNAL);
    expect(validateSubmissionText('s.json', text, 'image', PIDS)).toEqual([]);
  });

  it('writes the video-track CSV', () => {
    const text = renderSubmission({ track: 'video', pids: ['P1', 'P2'], scores: [8.5, 9], version: '', externalData: EXTERNAL });
    expect(text).toBe('pid,popularity_score\nP1,8.5\nP2,9\n');
    expect(validateSubmissionText('s.csv', text, 'video', ['P1', 'P2'])).toEqual([]);
  });

  it('refuses to write a non-finite score', () => {
    expect(() => renderSubmission({ track: 'video', pids: ['P1'], scores: [NaN], version: '', externalData: EXTERNAL })).toThrow(/P1.*NaN/);
  });
});

describe('smp validate rules', () => {
  it('rejects a missing row', () => {
    const problems = validateSubmissionText('s.json', image(PIDS.slice(0, 3), [1, 2, 3]), 'image', PIDS);
    expect(problems.join('\n')).toMatch(/3 rows, the test set has 4 posts/);
    expect(problems.join('\n')).toMatch(/1 test posts have no row, e\.g\. "104"/);
  });

  it('rejects rows out of test-set order', () => {
    const problems = validateSubmissionText('s.json', image(['101', '103', '102', '104'], [1, 2, 3, 4]), 'image', PIDS);
    expect(problems).toEqual([expect.stringMatching(/not in test image-list order.*result\[1\] is "103", expected "102"/)]);
  });

  it('rejects a NaN score (null in JSON, NaN in CSV)', () => {
    const json = image(PIDS, [1, NaN, 3, 4]);
    expect(validateSubmissionText('s.json', json, 'image', PIDS)).toEqual([expect.stringMatching(/result\[1\]: score null is not a finite number/)]);
    const csv = 'pid,popularity_score\n101,1\n102,NaN\n103,3\n104,4\n';
    expect(validateSubmissionText('s.csv', csv, 'video', PIDS)).toEqual([expect.stringMatching(/line 3: score .* is not a finite number/)]);
  });

  it('rejects a duplicate id', () => {
    const problems = validateSubmissionText('s.json', image(['101', '102', '102', '104'], [1, 2, 3, 4]), 'image', PIDS).join('\n');
    expect(problems).toMatch(/result\[2\]: duplicate id "102" \(first at result\[1\]\)/);
    expect(problems).toMatch(/no row, e\.g\. "103"/);
  });

  it('rejects a wrong CSV header and unknown ids', () => {
    expect(validateSubmissionText('s.csv', 'id,score\n', 'video', PIDS)[0]).toMatch(/header must be "pid,popularity_score"/);
    const csv = 'pid,popularity_score\n101,1\n102,2\n103,3\n999,4\n';
    expect(validateSubmissionText('s.csv', csv, 'video', PIDS).join('\n')).toMatch(/line 5: "999" is not a test post/);
  });
});

describe('video CSV header per year', () => {
  const csv = (header?: string) => renderSubmission({ track: 'video', pids: PIDS, scores: [1, 2, 3, 4], version: '', externalData: EXTERNAL, header });

  it('the writer uses submission.header; the validator checks the header it is given', () => {
    const y2026 = csv(VIDEO_HEADER_2026);
    expect(y2026.split('\n')[0]).toBe('pid,polularity_score');
    expect(validateSubmissionText('s.csv', y2026, 'video', PIDS, { header: VIDEO_HEADER_2026 })).toEqual([]);
    // the default header is checked when none is named, with a hint naming the variant found
    expect(validateSubmissionText('s.csv', y2026, 'video', PIDS)).toEqual([
      's.csv:1: header must be "pid,popularity_score", found "pid,polularity_score" (the 2026 header; if your year\'s scorer expects it, pass --header pid,polularity_score or set submission.header in the pipeline)',
    ]);
    expect(validateSubmissionText('s.csv', csv(), 'video', PIDS, { header: VIDEO_HEADER_2026 })[0]).toMatch(/header must be "pid,polularity_score", found "pid,popularity_score" \(the default header/);
  });

  it('the track follows from the file type, a zip from its entry', async () => {
    const dir = tmpDir('infer-track');
    expect(await inferTrack('x.csv')).toBe('video');
    expect(await inferTrack('x.JSON')).toBe('image');
    expect(await inferTrack('x.txt')).toBeNull();
    const zip = path.join(dir, 'sub.zip');
    await zipFile(zip, 'submission.csv', csv());
    expect(await inferTrack(zip)).toBe('video');
  });

  it('smp validate without --track checks the header --header names', async () => {
    const dir = tmpDir('validate-cli');
    const data = path.join(dir, 'data');
    await synthVideo({ out: data, posts: 40, seed: 1 });
    const test = await readDataset(data, { splits: ['test'] });
    const file = writeFile(path.join(dir, 'sub.csv'), renderSubmission({ track: 'video', pids: test.pid, scores: test.pid.map(() => 1), version: '', externalData: EXTERNAL, header: VIDEO_HEADER_2026 }));
    const run = (...args: string[]) => spawnSync(process.execPath, [path.join(REPO, 'bin', 'smp.js'), 'validate', file, '--data', data, ...args], { cwd: dir, encoding: 'utf8' });
    const ok = run('--header', VIDEO_HEADER_2026);
    expect(ok.stdout).toContain(`valid video-track submission, ${test.nTest} rows in test-set order, header pid,polularity_score`);
    expect(ok.status).toBe(0);
    const bad = run();
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('header must be "pid,popularity_score", found "pid,polularity_score"');
  });
});
