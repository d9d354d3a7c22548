import { describe, expect, it } from 'vitest';
import { renderSubmission } from '../../core/submit/write.ts';
import { validateSubmissionText } from '../../core/submit/validate.ts';

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
