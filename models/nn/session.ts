/**
 * @file Synchronous onnxruntime-node sessions for the neural learners.
 *
 * onnxruntime-node's public `InferenceSession.run` wraps a synchronous native call in a
 * `setImmediate` promise; a fitted model's `predict` is synchronous in this kit, and a training
 * loop pays one macrotask per step for nothing, so this wrapper calls the same native binding
 * (`onnxruntime-node/dist/binding.js`, initialised exactly as the package does) directly.
 * Tensors are the package's own `ort.Tensor`.
 *
 * Threads: `intraOpNumThreads` = `threads`, one inter-op thread, sequential execution, no
 * spinning. MLAS splits GEMMs over output blocks, never over the reduction dimension, so the
 * same model and inputs give the same bytes on 1 or 2 threads (checked in
 * test/models/mlp.test.ts, a whole training run with dropout, batch norm and embeddings). A
 * row's result can depend on its position within a batch (MLAS remainder-row kernels round
 * differently), so predictions are reproducible for the same batch size, not across batch sizes
 * at the last bit.
 *
 * @example
 *   const s = new Session(graph.toModel(), 2);
 *   const out = s.run({ x: new ort.Tensor('float32', data, [n, 3]) });
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import * as ort from 'onnxruntime-node';

export { ort };

interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, ort.Tensor>, fetches: Record<string, ort.Tensor | null>, options: object): Record<string, ort.Tensor>;
  dispose(): void;
}

const require = createRequire(import.meta.url);
let native: { binding: { InferenceSession: new () => NativeSession }; initOrt: () => void } | undefined;

function binding() {
  if (!native) native = require('onnxruntime-node/dist/binding.js') as typeof native;
  native!.initOrt();
  return native!.binding;
}

/** Threads to use for `num_threads: 0` (all available cores). */
export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

export class Session {
  private readonly native: NativeSession;
  private readonly fetches: Record<string, null>;

  constructor(model: Uint8Array, threads: number, outputs: readonly string[]) {
    const Native = binding().InferenceSession;
    this.native = new Native();
    this.native.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      // Idle pool threads sleep instead of spinning: on a small shared machine a spinning
      // thread takes the core another process (or the next kernel) needs.
      extra: { 'session.intra_op.allow_spinning': '0' },
    });
    this.fetches = Object.fromEntries(outputs.map((o) => [o, null]));
  }

  /**
   * Runs the model. `into` names outputs to write into caller-owned tensors (reused buffers: the
   * runtime allocates nothing for them); the others are returned in fresh arrays.
   */
  run(feeds: Record<string, ort.Tensor>, into?: Record<string, ort.Tensor>): Record<string, ort.Tensor> {
    return this.native.run(feeds, into ? { ...this.fetches, ...into } : this.fetches, {});
  }

  dispose(): void {
    this.native.dispose();
  }
}

export function f32(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export function i32(data: Int32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int32', data, dims);
}
