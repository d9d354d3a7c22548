/**
 * `smp models fetch` through the real CLI (one spawn: each costs seconds of start-up): a fetch
 * that cannot reach the hub exits 1 with a one-line error (no stack) that names the target
 * folder. (listModels / fetchModel themselves are tested in models-dir.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(new URL('..', import.meta.url).pathname);
const root = path.join(REPO, 'test', '.tmp', `models-cli-${process.pid}`);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function smp(...args: string[]) {
  return spawnSync(process.execPath, [path.join(REPO, 'bin', 'smp.js'), ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, HF_ENDPOINT: '' } });
}

describe('smp models', () => {
  it('a fetch without network fails with one clear line', () => {
    const target = path.join(root, 'elsewhere');
    const fetch = smp('models', 'fetch', 'Xenova/clip-vit-base-patch32', '--dir', target, '--host', 'http://127.0.0.1:9/');
    expect(fetch.status).toBe(1);
    expect(fetch.stderr).toContain(`error: smp models fetch Xenova/clip-vit-base-patch32: download into ${path.join(target, 'Xenova', 'clip-vit-base-patch32')} failed`);
    expect(fetch.stderr).toContain('no network?');
    expect(fetch.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
