/**
 * @file Worker-thread entry: receives the shared engine state once, then loops waiting on the
 * shared job counter (a short spin, then Atomics.wait), runs its feature range of each job and
 * signals completion through its own done slot. Started by pool.ts; exits on JOB_EXIT.
 *
 * @example
 *   new Worker(new URL('./worker.ts', import.meta.url), { workerData: { init, thread: 1 }, execArgv: ['--import', tsxUrl] });
 */
import { parentPort, workerData } from 'node:worker_threads';
import { C_DONE, C_ERROR, C_SEQ, C_TYPE, JOB_EXIT, createEngine, runJob, type EngineInit } from './engine.ts';

const { init, thread, spin } = workerData as { init: EngineInit; thread: number; spin: number };
const st = createEngine(init, thread);
const ctrl = st.ctrl;
let seen = 0;
parentPort!.postMessage('ready');
for (;;) {
  let s = Atomics.load(ctrl, C_SEQ);
  for (let k = 0; s === seen && k < spin; k++) s = Atomics.load(ctrl, C_SEQ);
  while (s === seen) {
    Atomics.wait(ctrl, C_SEQ, seen);
    s = Atomics.load(ctrl, C_SEQ);
  }
  seen = s;
  if (ctrl[C_TYPE] === JOB_EXIT) break;
  try {
    runJob(st, thread);
  } catch (e) {
    Atomics.store(ctrl, C_ERROR, 1);
    parentPort!.postMessage({ error: String((e as Error)?.stack ?? e) });
  }
  Atomics.store(ctrl, C_DONE + thread, seen);
  Atomics.notify(ctrl, C_DONE + thread);
}
parentPort!.close();
