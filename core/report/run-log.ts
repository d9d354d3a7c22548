/**
 * @file The run log: human lines on the terminal (stderr) and structured events in
 * `log.jsonl` of the run folder. Long loops report progress through `progress`, which draws a
 * bar with rate and ETA on a terminal and prints occasional lines elsewhere (CI logs).
 *
 * @example
 *   const log = new RunLog({ file: 'runs/demo/x/log.jsonl' });
 *   log.info('features', 'computed time (4 columns)');
 *   const bar = log.progress('clip-image', 1000); bar.tick(32); bar.done();
 */
import fs from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';

export interface Progress {
  tick(n?: number): void;
  done(): void;
}

export class RunLog {
  private file: string | null;
  private readonly quiet: boolean;
  private readonly started = Date.now();
  private buffer: string[] = [];
  readonly counters: Record<string, number> = {};
  /** The stage of the latest line or progress bar (what an interruption stopped). */
  stage: string | null = null;
  lastMessage: string | null = null;

  constructor(opts: { file?: string | null; quiet?: boolean } = {}) {
    this.file = opts.file ?? null;
    this.quiet = opts.quiet ?? false;
  }

  /** Points the structured log at a file (once the run folder exists); flushes earlier events. */
  attach(file: string): void {
    this.file = file;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.appendFileSync(file, this.buffer.join(''));
    this.buffer = [];
  }

  event(stage: string, data: Record<string, unknown>): void {
    const line = JSON.stringify({ t: Number(((Date.now() - this.started) / 1000).toFixed(3)), stage, ...data }) + '\n';
    if (this.file) fs.appendFileSync(this.file, line);
    else this.buffer.push(line);
  }

  /** Notes what is starting without printing it (named if the run is interrupted). */
  at(stage: string, what: string): void {
    [this.stage, this.lastMessage] = [stage, what];
  }

  info(stage: string, message: string, data: Record<string, unknown> = {}): void {
    [this.stage, this.lastMessage] = [stage, message];
    if (!this.quiet) process.stderr.write(`[${stage}] ${message}\n`);
    this.event(stage, { message, ...data });
  }

  warn(stage: string, message: string, data: Record<string, unknown> = {}): void {
    if (!this.quiet) process.stderr.write(`[${stage}] warning: ${message}\n`);
    this.event(stage, { level: 'warn', message, ...data });
  }

  /** A block of text for the person at the terminal (the end-of-run summary); not in log.jsonl, whose events hold the same numbers. */
  summary(text: string): void {
    if (!this.quiet) process.stderr.write(`${text}\n`);
  }

  /** Adds to a named counter (e.g. corrupt images); counters are saved in run.json. */
  count(name: string, n = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + n;
  }

  progress(label: string, total: number): Progress {
    [this.stage, this.lastMessage] = [label, `0/${total}`];
    const t0 = Date.now();
    let done = 0;
    if (!this.quiet && process.stderr.isTTY) {
      const bar = new cliProgress.SingleBar(
        { format: `[${label}] {bar} {value}/{total} {rate}/s ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { rate: '0' });
      return {
        tick: (n = 1) => {
          done += n;
          const rate = done / Math.max(1e-3, (Date.now() - t0) / 1000);
          bar.update(done, { rate: rate.toFixed(1) });
        },
        done: () => {
          bar.stop();
          this.event(label, { done, seconds: (Date.now() - t0) / 1000 });
        },
      };
    }
    let lastPrint = t0;
    return {
      tick: (n = 1) => {
        done += n;
        const now = Date.now();
        if (!this.quiet && now - lastPrint > 5000) {
          lastPrint = now;
          const rate = done / ((now - t0) / 1000);
          const eta = rate > 0 ? (total - done) / rate : NaN;
          process.stderr.write(`[${label}] ${done}/${total} ${rate.toFixed(1)}/s ETA ${eta.toFixed(0)}s\n`);
        }
      },
      done: () => this.event(label, { done, seconds: (Date.now() - t0) / 1000 }),
    };
  }
}
