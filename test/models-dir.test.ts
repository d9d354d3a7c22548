/**
 * The models folder: a missing or incomplete model is a clear UserError naming the folder, the
 * missing files and `smp models fetch <id>`; `listModels` shows what is present; `fetchModel`
 * downloads through transformers.js into the folder (here from a local HTTP server standing in
 * for the Hugging Face hub, so the test stays offline) and the result loads with downloads off.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.ts';
import { checkModel, DEFAULT_CLIP_MODEL, fetchModel, listModels, loadClipText, loadTextEncoder, requiredFiles } from '../features/embed/models.ts';
import { clipImage } from '../features/clip-image.ts';
import { buildTinyModels, TINY_BERT_ID, TINY_CLIP_ID } from './fixtures/tiny-models.ts';
import { featureContext, imagePosts } from './fixtures/embed-data.ts';

const root = path.resolve('test/.tmp', `models-dir-${process.pid}`);
const modelsDir = path.join(root, 'models');

beforeAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  buildTinyModels(modelsDir);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('models folder', () => {
  it('names the folder and the fetch command when a model is absent', () => {
    const empty = path.join(root, 'empty');
    const e = errorOf(() => checkModel(empty, DEFAULT_CLIP_MODEL, ['clip-vision']));
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toContain(`model "${DEFAULT_CLIP_MODEL}" is not in the models folder ${empty}`);
    expect(e.message).toContain(path.join(empty, 'Xenova', 'clip-vit-base-patch32'));
    expect(e.message).toContain(`smp models fetch ${DEFAULT_CLIP_MODEL}`);
    expect(e.message).toContain('allow_download: true');
  });

  it('lists the missing files of an incomplete model', () => {
    const dir = path.join(root, 'partial');
    buildTinyModels(dir);
    fs.rmSync(path.join(dir, TINY_CLIP_ID, 'onnx', 'vision_model.onnx'));
    fs.rmSync(path.join(dir, TINY_CLIP_ID, 'preprocessor_config.json'));
    const e = errorOf(() => checkModel(dir, TINY_CLIP_ID, ['clip-vision', 'clip-text']));
    expect(e.message).toContain(`is incomplete in ${path.join(dir, TINY_CLIP_ID)}: missing preprocessor_config.json, onnx/vision_model.onnx`);
    expect(e.message).toContain(`smp models fetch ${TINY_CLIP_ID}`);
    // a quantized variant is asked for by name
    const q = errorOf(() => checkModel(modelsDir, TINY_BERT_ID, ['feature-extraction'], 'q8'));
    expect(q.message).toContain('missing onnx/model_quantized.onnx');
    expect(q.message).toContain('--dtype q8');
  });

  it('a feature on a missing model fails with that error, not transformers.js internals', async () => {
    const table = await imagePosts(path.join(root, 'posts'), 3);
    const ctx = featureContext(table, { cacheDir: path.join(root, 'cache'), modelsDir: path.join(root, 'nothing-here') });
    await expect(clipImage.compute(ctx, clipImage.params.parse({}))).rejects.toThrow(/smp models fetch Xenova\/clip-vit-base-patch32/);
    await expect(clipImage.compute(ctx, clipImage.params.parse({}))).rejects.toBeInstanceOf(UserError);
  });

  it('a damaged model file or a failed download is a UserError with the folder and the fetch command', async () => {
    const dir = path.join(root, 'damaged');
    buildTinyModels(dir);
    fs.writeFileSync(path.join(dir, TINY_BERT_ID, 'onnx', 'model.onnx'), 'not onnx');
    const bad = loadTextEncoder(TINY_BERT_ID, { modelsDir: dir });
    await expect(bad).rejects.toBeInstanceOf(UserError);
    await expect(bad).rejects.toThrow(`model "${TINY_BERT_ID}" in ${path.join(dir, TINY_BERT_ID)} could not be loaded`);
    await expect(bad).rejects.toThrow(`smp models fetch ${TINY_BERT_ID}`);
    // downloads allowed, but the hub is unreachable (a closed local port)
    process.env.HF_ENDPOINT = 'http://127.0.0.1:9/';
    try {
      const down = loadClipText('smp-fixtures/not-here', { modelsDir: dir, allowDownload: true });
      await expect(down).rejects.toBeInstanceOf(UserError);
      await expect(down).rejects.toThrow(/could not download config\.json, tokenizer\.json, tokenizer_config\.json, onnx\/text_model\.onnx into .*not-here/);
    } finally {
      delete process.env.HF_ENDPOINT;
    }
  });

  it('lists present models with their roles', () => {
    const list = listModels(modelsDir);
    expect(list.map((m) => m.id)).toEqual([TINY_BERT_ID, TINY_CLIP_ID]);
    expect(list[0].roles).toEqual(['feature-extraction']);
    expect(list[1].roles).toEqual(['clip-vision', 'clip-text']);
    expect(list[1].dtypes).toEqual(['fp32']);
    expect(list[1].bytes).toBeGreaterThan(1000);
    expect(listModels(path.join(root, 'does-not-exist'))).toEqual([]);
    expect(requiredFiles('clip-vision', 'q8')).toContain('onnx/vision_model_quantized.onnx');
  });

  it('fetches a model into the folder through transformers.js, then loads it offline', async () => {
    // a stand-in for huggingface.co: GET /<owner>/<name>/resolve/main/<file>
    const server = http.createServer((req, res) => {
      const m = /^\/([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+)$/.exec(decodeURIComponent(req.url ?? ''));
      const file = m && path.join(modelsDir, m[1], m[2]);
      if (!file || !file.startsWith(modelsDir) || !fs.existsSync(file)) {
        res.writeHead(404).end('not found');
        return;
      }
      const body = fs.readFileSync(file);
      res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const target = path.join(root, 'fetched');
    try {
      const clip = await fetchModel(TINY_CLIP_ID, { modelsDir: target, host });
      expect(clip.roles).toEqual(['clip-vision', 'clip-text']);
      const bert = await fetchModel(TINY_BERT_ID, { modelsDir: target, host });
      expect(bert.roles).toEqual(['feature-extraction']);
      for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'])
        expect(fs.readFileSync(path.join(target, TINY_BERT_ID, f))).toEqual(fs.readFileSync(path.join(modelsDir, TINY_BERT_ID, f)));
      await expect(fetchModel('smp-fixtures/no-such-model', { modelsDir: target, host })).rejects.toThrow(/smp models fetch smp-fixtures\/no-such-model: download into .* failed/);
    } finally {
      server.close();
    }
    // downloads are off again: loading the fetched copies works offline
    const text = await loadTextEncoder(TINY_BERT_ID, { modelsDir: target });
    expect(text.dim).toBe(16);
    const ct = await loadClipText(TINY_CLIP_ID, { modelsDir: target });
    expect(ct.dim).toBe(8);
  });
});
