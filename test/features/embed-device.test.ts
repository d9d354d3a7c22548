/**
 * `device` of the embedding kinds: `cuda` where the CUDA provider cannot run is an error naming
 * what is missing (platform, provider libraries, driver, the provider itself); `auto` falls back
 * to the CPU with one line in the run log and gives the CPU's bytes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunLog } from '../../core/report/run-log.ts';
import { UserError } from '../../core/errors.ts';
import type { Table } from '../../core/data/table.ts';
import { clipImage } from '../../features/clip-image.ts';
import { CUDA_PROVIDER_FILES, cudaFilesProblem, cudaProblem, resolveDevice } from '../../features/embed/device.ts';
import { buildTinyModels, TINY_CLIP_ID } from '../fixtures/tiny-models.ts';
import { featureContext, imagePosts } from '../fixtures/embed-data.ts';
import { synthImage } from '../../core/data/synth-image.ts';
import { runPipeline } from '../../core/pipeline/run.ts';
import { tmpDir, writeFile } from '../helpers.ts';

let dir: string;
let modelsDir: string;
let table: Table;

beforeAll(async () => {
  dir = tmpDir('embed-device');
  modelsDir = path.join(dir, 'models');
  buildTinyModels(modelsDir);
  table = await imagePosts(path.join(dir, 'data'), 12, { seed: 3 });
});

/** A log that keeps its info lines. */
function lines(): { info(stage: string, msg: string): void; seen: string[] } {
  const seen: string[] = [];
  return { info: (stage, msg) => seen.push(`[${stage}] ${msg}`), seen };
}

describe('embedding device', () => {
  it('names what the CUDA provider lacks: platform, provider libraries, driver', () => {
    const bin = path.join(dir, 'ort-bin');
    fs.mkdirSync(bin, { recursive: true });
    const driver = path.join(dir, 'nvidia-version');
    expect(cudaFilesProblem({ platform: 'darwin/arm64', binDir: bin, driverFile: driver })).toMatch(/Linux x64 only \(this machine is darwin\/arm64\)/);
    const noLibs = cudaFilesProblem({ platform: 'linux/x64', binDir: bin, driverFile: driver })!;
    for (const f of CUDA_PROVIDER_FILES) expect(noLibs).toContain(f);
    expect(noLibs).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js');
    for (const f of CUDA_PROVIDER_FILES) fs.writeFileSync(path.join(bin, f), '');
    expect(cudaFilesProblem({ platform: 'linux/x64', binDir: bin, driverFile: driver })).toMatch(/no NVIDIA driver is loaded \(no .*nvidia-version\)/);
    fs.writeFileSync(driver, 'NVRM version: 550');
    expect(cudaFilesProblem({ platform: 'linux/x64', binDir: bin, driverFile: driver })).toBeNull();
  });

  it('cuda without a usable GPU is an error; auto falls back to cpu with one log line; cpu never checks', async () => {
    const why = async () => 'no NVIDIA driver is loaded (no /proc/driver/nvidia/version)';
    await expect(resolveDevice('cuda', lines(), why)).rejects.toThrow(UserError);
    await expect(resolveDevice('cuda', lines(), why)).rejects.toThrow(/^device: cuda: no NVIDIA driver is loaded .*Use device: auto .* or device: cpu\.$/);
    const log = lines();
    expect(await resolveDevice('auto', log, why)).toBe('cpu');
    expect(await resolveDevice('auto', log, why)).toBe('cpu');
    expect(log.seen).toEqual(['[device] device: auto runs on the CPU: no NVIDIA driver is loaded (no /proc/driver/nvidia/version)']);
    expect(await resolveDevice('auto', lines(), async () => null)).toBe('cuda');
    expect(await resolveDevice('cpu', lines(), () => Promise.reject(new Error('not called')))).toBe('cpu');
  });

  it('clip-image on this machine: device cuda fails clearly or runs; auto gives the bytes of the device it found', async () => {
    const problem = await cudaProblem();
    const params = (device: string) => clipImage.params.parse({ model: TINY_CLIP_ID, workers: 0, batch_size: 4, device });
    const ctx = (name: string, log = new RunLog({ quiet: true })) => featureContext(table, { cacheDir: path.join(dir, name), modelsDir, log });
    const cpu = await clipImage.compute(ctx('cpu'), params('cpu'));
    if (problem) {
      // this machine has no usable CUDA provider: say what is missing, compute nothing
      await expect(clipImage.compute(ctx('cuda'), params('cuda'))).rejects.toThrow(`device: cuda: ${problem}`);
      expect(fs.existsSync(path.join(dir, 'cuda'))).toBe(false);
      const log = new RunLog({ quiet: true });
      const auto = await clipImage.compute(ctx('auto', log), params('auto'));
      expect(Buffer.from(auto.data.buffer).equals(Buffer.from(cpu.data.buffer))).toBe(true);
      log.attach(path.join(dir, 'log.jsonl'));
      const device = fs.readFileSync(path.join(dir, 'log.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"stage":"device"'));
      expect(device).toHaveLength(1);
      expect(device[0]).toContain(`device: auto runs on the CPU: ${problem}`);

      // smp run stops before any feature work, naming the pipeline line of each cuda block
      const data = path.join(dir, 'synth');
      await synthImage({ out: data, posts: 40, seed: 2 });
      const file = writeFile(
        path.join(dir, 'gpu.yaml'),
        `name: gpu\ntrack: image\ndata: { root: synth }\nmodels_dir: ${JSON.stringify(modelsDir)}\nfeatures:\n  - { id: meta, kind: metadata }\n  - id: clip\n    kind: clip-image\n    params: { model: ${TINY_CLIP_ID}, device: cuda }\nmodels:\n  - { id: ridge, kind: ridge }\n`,
      );
      const work = path.join(dir, 'work');
      await expect(runPipeline(file, { workDir: work, quiet: true })).rejects.toThrow(/^device: cuda \(.*gpu\.yaml:9:\d+ clip\): /);
      expect(fs.existsSync(path.join(work, '.cache'))).toBe(false);
    } else {
      const gpu = await clipImage.compute(ctx('cuda'), params('cuda'));
      expect([gpu.rows, gpu.cols]).toEqual([cpu.rows, cpu.cols]);
      for (let i = 0; i < cpu.data.length; i++) expect(gpu.data[i]).toBeCloseTo(cpu.data[i], 4);
    }
  });
});
