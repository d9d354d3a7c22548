/**
 * @file The thread pool of one fit: the main thread is thread 0 and runs its share of every
 * job itself; num_threads - 1 workers (worker.ts, started through worker-boot.mjs, which
 * registers tsx inside the worker) take the other feature ranges. Jobs are signalled through shared memory (no message per job), so a job costs a few
 * microseconds of synchronisation. `close()` stops and terminates the workers.
 *
 * @example
 *   const pool = await ThreadPool.start(init);
 *   pool.run();          // after writing a job into init.ctrl / init.jobF
 *   await pool.close();
 */
import { Worker } from 'node:worker_threads';
import { C_DONE, C_ERROR, C_SEQ, C_TYPE, JOB_EXIT, createEngine, runJob, type Engine, type EngineInit } from './engine.ts';

const SPIN = 20_000;

export class ThreadPool {
  private seq = 0;
  private constructor(
    readonly engine: Engine,
    private readonly workers: Worker[],
  ) {}

  static async start(init: EngineInit): Promise<ThreadPool> {
    const workers: Worker[] = [];
    try {
      for (let t = 1; t < init.threads; t++) {
        const w = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
          workerData: { init, thread: t, spin: SPIN },
          execArgv: [],
        });
        workers.push(w);
        await new Promise<void>((resolve, reject) => {
          w.once('message', () => resolve());
          w.once('error', reject);
          w.once('exit', (code) => reject(new Error(`gbdt: worker exited with code ${code} before starting`)));
        });
        w.removeAllListeners('error');
        w.removeAllListeners('exit');
        w.on('error', () => {});
      }
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return new ThreadPool(createEngine(init, 0), workers);
  }

  /** Runs the job currently described in ctrl/jobF on all threads; returns when all are done. */
  run(): void {
    const st = this.engine;
    const ctrl = st.ctrl;
    const seq = ++this.seq;
    if (this.workers.length) {
      Atomics.store(ctrl, C_SEQ, seq);
      Atomics.notify(ctrl, C_SEQ);
    }
    runJob(st, 0);
    for (let t = 1; t <= this.workers.length; t++) {
      let d = Atomics.load(ctrl, C_DONE + t);
      for (let k = 0; d !== seq && k < SPIN; k++) d = Atomics.load(ctrl, C_DONE + t);
      while (d !== seq) {
        Atomics.wait(ctrl, C_DONE + t, d, 1000);
        d = Atomics.load(ctrl, C_DONE + t);
      }
    }
    if (Atomics.load(ctrl, C_ERROR)) throw new Error('gbdt: a histogram worker failed (see its error message)');
  }

  async close(): Promise<void> {
    if (!this.workers.length) return;
    const ctrl = this.engine.ctrl;
    ctrl[C_TYPE] = JOB_EXIT;
    Atomics.store(ctrl, C_SEQ, ++this.seq);
    Atomics.notify(ctrl, C_SEQ);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
