/**
 * @file Worker thread of the image pool (image-pool.ts): preprocesses the files of one task
 * (pixels.mjs) and sends back the floats (transferred, not copied) and an ok flag per file.
 * Message in: {id, files, spec, inflight}; out: {id, data, ok} or {id, error}.
 */
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { preprocessBatch } from './pixels.mjs';

// One libvips thread per worker: the pool already runs a worker per core, and libvips' own
// per-image threads would only contend with the other workers.
sharp.concurrency(1);
sharp.cache(false);

if (!parentPort) throw new Error('image-worker.mjs must run as a worker thread');
const port = parentPort;

port.on('message', async (task) => {
  try {
    const { data, ok } = await preprocessBatch(task.files, task.spec, task.inflight);
    port.postMessage({ id: task.id, data, ok }, [data.buffer, ok.buffer]);
  } catch (e) {
    port.postMessage({ id: task.id, data: new Float32Array(0), ok: new Uint8Array(0), error: String(e?.stack ?? e) });
  }
});
