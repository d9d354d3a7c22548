/**
 * @file Where the embedding models run: `device: cpu | cuda | auto` of every embedding kind.
 * `cuda` is onnxruntime-node's CUDA execution provider (Linux x64, CUDA 12, cuDNN 9), which
 * npm does not ship: its libraries (libonnxruntime_providers_cuda.so, ..._shared.so) come
 * from onnxruntime-node's own install script on a connected machine (README, "GPU
 * embeddings"). Before a model loads, the provider is checked in order: platform, provider
 * libraries, NVIDIA driver, then a one-node session on the CUDA provider (which fails when the
 * CUDA runtime or cuDNN libraries cannot be loaded or no GPU is visible). `cuda` without a
 * usable GPU is an error naming what is missing; `auto` falls back to the CPU with one log
 * line saying why. The check runs once per process.
 *
 * @example
 *   const device = await resolveDevice('auto', log); // 'cuda' or 'cpu'
 *   await cudaProblem(); // null when the CUDA provider works here, else why not
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { UserError } from '../../core/errors.ts';
import { Graph } from '../../models/nn/graph.ts';

export const DEVICES = ['auto', 'cpu', 'cuda'] as const;
export type Device = (typeof DEVICES)[number];

/** The provider libraries onnxruntime-node loads for `cuda`. */
export const CUDA_PROVIDER_FILES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
const INSTALL = 'ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js';

export interface CudaEnvironment {
  platform: string;
  /** onnxruntime-node's binary folder (where the provider libraries must be). */
  binDir: string;
  /** Present when the NVIDIA kernel driver is loaded. */
  driverFile: string;
}

export function cudaEnvironment(): CudaEnvironment {
  const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  return { platform: `${process.platform}/${process.arch}`, binDir: path.join(path.dirname(pkg), 'bin', 'napi-v6', 'linux', 'x64'), driverFile: '/proc/driver/nvidia/version' };
}

/** What the files say is missing for the CUDA provider (no native code runs), or null. */
export function cudaFilesProblem(env: CudaEnvironment = cudaEnvironment()): string | null {
  if (env.platform !== 'linux/x64') return `onnxruntime-node has a CUDA execution provider for Linux x64 only (this machine is ${env.platform})`;
  const missing = CUDA_PROVIDER_FILES.filter((f) => !fs.existsSync(path.join(env.binDir, f)));
  if (missing.length)
    return `onnxruntime-node's CUDA provider libraries are not installed (${env.binDir} has no ${missing.join(', ')}); on a machine with network run \`${INSTALL}\` (README: GPU embeddings)`;
  if (!fs.existsSync(env.driverFile)) return `no NVIDIA driver is loaded (no ${env.driverFile}); install the NVIDIA driver (nvidia-smi lists the GPU when it works)`;
  return null;
}

/** Starts a one-node session on the CUDA provider; null when it runs, else its error. */
async function probeSession(): Promise<string | null> {
  const ort = await import('onnxruntime-node');
  const g = new Graph();
  g.output(g.neg(g.input('x', [1])), 'y');
  try {
    const session = await ort.InferenceSession.create(g.toModel('cuda_probe'), { executionProviders: ['cuda'] });
    await session.run({ x: new ort.Tensor('float32', new Float32Array([1]), [1]) });
    await session.release();
    return null;
  } catch (e) {
    return `the CUDA execution provider did not start (${(e as Error).message.split('\n')[0]}); it needs an NVIDIA GPU, the CUDA 12 runtime and cuDNN 9 libraries on LD_LIBRARY_PATH`;
  }
}

let probed: Promise<string | null> | null = null;

/** Why the CUDA provider cannot run here (files, driver, then a real session), or null; once per process. */
export function cudaProblem(): Promise<string | null> {
  probed ??= (async () => cudaFilesProblem() ?? (await probeSession()))();
  return probed;
}

/** Run logs that were told about the fallback (one line per run). */
const told = new WeakSet<object>();

/**
 * The device a model loads on: cpu as asked; cuda when its provider works, else an error naming
 * what is missing; auto: cuda when it works, else cpu with one line in the run log saying why.
 */
export async function resolveDevice(requested: Device, log: { info(stage: string, msg: string): void }, problem: () => Promise<string | null> = cudaProblem): Promise<'cpu' | 'cuda'> {
  if (requested === 'cpu') return 'cpu';
  const why = await problem();
  if (!why) return 'cuda';
  if (requested === 'cuda') throw new UserError(`device: cuda: ${why}. Use device: auto (CUDA when it works, else CPU) or device: cpu.`);
  if (!told.has(log)) {
    told.add(log);
    log.info('device', `device: auto runs on the CPU: ${why}`);
  }
  return 'cpu';
}
