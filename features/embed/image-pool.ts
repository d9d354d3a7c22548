/**
 * @file A pool of worker threads that turn image files into CLIP pixel tensors (preprocess.ts),
 * so decoding and resizing run beside model inference instead of before it. Each task is one
 * batch of files; a worker takes the next queued batch when it finishes one. `workers: 0` runs
 * the same code on the main thread (no threads; for debugging and tiny inputs).
 *
 * @example
 *   const pool = new ImagePool(2);
 *   try {
 *     const { data, ok } = await pool.preprocess(['/a.jpg', '/b.png'], spec); // 2 x 3 x 224 x 224
 *   } finally {
 *     await pool.close();
 *   }
 */
import { Worker } from 'node:worker_threads';
import { preprocessBatch, type ClipImageSpec } from './preprocess.ts';

export interface Preprocessed {
  /** files.length x 3 x cropHeight x cropWidth floats, zeros where ok is 0. */
  data: Float32Array;
  /** 1 if the image was read, 0 if missing or undecodable. */
  ok: Uint8Array;
}

/** Message to a worker (image-worker.mjs). */
interface ImageTask {
  id: number;
  files: (string | null)[];
  spec: ClipImageSpec;
  /** Images decoded at once inside the worker (sharp runs them on libuv threads). */
  inflight: number;
}

/** Message from a worker. */
interface ImageResult {
  id: number;
  data: Float32Array;
  ok: Uint8Array;
  error?: string;
}

interface Job {
  task: ImageTask;
  resolve: (r: Preprocessed) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

const WORKER_URL = new URL('./image-worker.mjs', import.meta.url);

export class ImagePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;

  /**
   * @param workers worker threads (0 = main thread)
   * @param inflight images decoded concurrently inside each worker
   */
  constructor(
    readonly workers: number,
    readonly inflight = 2,
  ) {
    for (let i = 0; i < workers; i++) this.spawn();
  }

  private spawn(): void {
    const worker = new Worker(WORKER_URL, { execArgv: [] });
    const slot: Slot = { worker, job: null };
    worker.on('message', (r: ImageResult) => {
      const job = slot.job;
      slot.job = null;
      if (job) {
        if (r.error) job.reject(new Error(`image worker: ${r.error}`));
        else job.resolve({ data: r.data, ok: r.ok });
      }
      this.pump();
    });
    worker.on('error', (e) => this.fail(slot, e));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(slot, new Error(`image worker exited with code ${code}`));
    });
    this.slots.push(slot);
  }

  private fail(slot: Slot, e: Error): void {
    const job = slot.job;
    slot.job = null;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (job) job.reject(e);
    if (this.slots.length === 0) for (const j of this.queue.splice(0)) j.reject(e);
    else this.pump();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.postMessage(job.task);
    }
  }

  /** Preprocesses a batch of files (null = no file); never rejects for a bad image, only flags it. */
  async preprocess(files: readonly (string | null)[], spec: ClipImageSpec): Promise<Preprocessed> {
    if (this.closed) throw new Error('image pool is closed');
    const task: ImageTask = { id: this.nextId++, files: [...files], spec, inflight: this.inflight };
    if (this.workers === 0) return preprocessBatch(task.files, spec, this.inflight);
    if (this.slots.length === 0) throw new Error('image pool: no live workers');
    return new Promise<Preprocessed>((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new Error('image pool closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }
}
