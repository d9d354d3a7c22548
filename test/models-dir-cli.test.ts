/**
 * `smp models list` and `smp models fetch` through the real CLI: the listing names the folder
 * and each model's roles; a fetch that cannot reach the hub exits 1 with a one-line error (no
 * stack) that names the target folder.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTinyModels, TINY_BERT_ID, TINY_CLIP_ID } from './fixtures/tiny-models.ts';

const REPO = path.resolve(new URL('..', import.meta.url).pathname);
const root = path.join(REPO, 'test', '.tmp', `models-cli-${process.pid}`);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function smp(...args: string[]) {
  return spawnSync(process.execPath, [path.join(REPO, 'bin', 'smp.js'), ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, HF_ENDPOINT: '' } });
}

describe('smp models', () => {
  it('lists the models folder and fails a fetch clearly without network', () => {
    const dir = path.join(root, 'models');
    buildTinyModels(dir);
    const list = smp('models', 'list', '--dir', dir);
    expect(list.status).toBe(0);
    expect(list.stdout).toContain(`models folder: ${dir}`);
    expect(list.stdout).toMatch(new RegExp(`${TINY_BERT_ID}\\s+[\\d.]+ MB\\s+feature-extraction`));
    expect(list.stdout).toMatch(new RegExp(`${TINY_CLIP_ID}\\s+[\\d.]+ MB\\s+clip-vision, clip-text`));

    const target = path.join(root, 'elsewhere');
    const fetch = smp('models', 'fetch', 'Xenova/clip-vit-base-patch32', '--dir', target, '--host', 'http://127.0.0.1:9/');
    expect(fetch.status).toBe(1);
    expect(fetch.stderr).toContain(`error: smp models fetch Xenova/clip-vit-base-patch32: download into ${path.join(target, 'Xenova', 'clip-vit-base-patch32')} failed`);
    expect(fetch.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const bad = smp('models', 'fetch', 'not-an-id', '--dir', target);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('model id "not-an-id": expected owner/name');
  });
});
