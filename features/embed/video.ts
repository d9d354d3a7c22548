/**
 * @file Uniform frame sampling from video files with ffmpeg (the static build of
 * @ffmpeg-installer/ffmpeg, else `ffmpeg` on PATH, else SMP_FFMPEG): one call reads the
 * duration (`ffmpeg -i`, stderr), a second decodes `n` frames at times (k + 0.5) * duration / n
 * (input seek, then the fps filter) and pipes them as PPM images (rgb24, display orientation),
 * which are parsed here. A missing, unreadable or frameless video gives no frames, not an error.
 *
 * @example
 *   const frames = await sampleFrames('/videos/1.mp4', 8); // [{width, height, rgb}, ...] (<= 8)
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { UserError } from '../../core/errors.ts';

export interface Frame {
  width: number;
  height: number;
  /** Interleaved RGB, width * height * 3 bytes. */
  rgb: Uint8Array;
}

let cachedPath: string | null = null;

/** The ffmpeg binary: SMP_FFMPEG, the npm-shipped static build, or `ffmpeg` on PATH. */
export function ffmpegPath(): string {
  if (cachedPath) return cachedPath;
  let p = process.env.SMP_FFMPEG ?? '';
  if (!p) {
    try {
      const installed = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
      if (fs.existsSync(installed)) p = installed;
    } catch {
      // not installed for this platform
    }
  }
  cachedPath = p || 'ffmpeg';
  return cachedPath;
}

/** Throws a UserError when the ffmpeg binary cannot run; returns its version line. */
export function checkFfmpeg(): string {
  const bin = ffmpegPath();
  const r = spawnSync(bin, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 30000 });
  if (r.error || r.status !== 0)
    throw new UserError(`ffmpeg is needed to read videos but "${bin}" does not run (${r.error?.message ?? `exit ${r.status}`}); install ffmpeg or set SMP_FFMPEG to its path`);
  return r.stdout.split('\n')[0];
}

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 20000) err += d.toString();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout: Buffer.alloc(0), stderr: String(e) });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

/** Duration in seconds from `ffmpeg -i` (null when unknown or unreadable). */
export async function videoDuration(file: string, timeoutMs = 30000): Promise<number | null> {
  const { stderr } = await run(['-hide_banner', '-nostdin', '-i', file], timeoutMs);
  const m = /Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)/.exec(stderr);
  if (!m || !/Stream #.*Video:/.test(stderr)) return null;
  const d = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return d > 0 ? d : null;
}

/** Splits a stream of binary PPM (P6, maxval 255) images. */
export function parsePpmStream(buf: Buffer): Frame[] {
  const frames: Frame[] = [];
  let at = 0;
  const token = (): string => {
    while (at < buf.length && /\s/.test(String.fromCharCode(buf[at]))) at++;
    const start = at;
    while (at < buf.length && !/\s/.test(String.fromCharCode(buf[at]))) at++;
    return buf.toString('latin1', start, at);
  };
  while (at < buf.length) {
    if (token() !== 'P6') break;
    const width = Number(token());
    const height = Number(token());
    const max = Number(token());
    at++; // the single whitespace after maxval
    const size = width * height * 3;
    if (!(width > 0 && height > 0) || max !== 255 || at + size > buf.length) break;
    frames.push({ width, height, rgb: new Uint8Array(buf.buffer, buf.byteOffset + at, size) });
    at += size;
  }
  return frames;
}

/** Up to `n` frames spread evenly over the video; [] when it cannot be read. */
export async function sampleFrames(file: string | null, n: number, timeoutMs = 120000): Promise<Frame[]> {
  if (!file || !fs.existsSync(file)) return [];
  const duration = await videoDuration(file, timeoutMs);
  if (duration === null) return [];
  const start = duration / (2 * n);
  const { stdout } = await run(
    ['-v', 'error', '-nostdin', '-ss', start.toFixed(4), '-i', file, '-an', '-vf', `fps=${n}/${duration.toFixed(4)}`, '-frames:v', String(n), '-f', 'image2pipe', '-vcodec', 'ppm', '-'],
    timeoutMs,
  );
  return parsePpmStream(stdout).slice(0, n);
}
