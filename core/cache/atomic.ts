/**
 * @file Atomic file writes: write to a temp name in the same folder, then rename, so a crash
 * never leaves a half-written file under the final name. Temp names carry the writer's pid and
 * host (`<file>.tmp-<pid>-<n>-<host>`), so writers on several machines sharing one cache folder
 * (`--cache` on a shared filesystem) never pick the same name, and a sweep can tell a dead local
 * writer's leftovers from a live remote writer's file.
 *
 * @example
 *   writeFileAtomic('meta.json', JSON.stringify(meta));
 *   withAtomicFile('block.npy', (fd) => { fs.writeSync(fd, header); ... }); // streamed writes
 *   await withAtomicPath('t.parquet', (tmp) => conn.run(`COPY t TO '${tmp}' (FORMAT parquet)`)); // another writer
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let counter = 0;
const HOST = os.hostname().replace(/[^A-Za-z0-9.]/g, '_') || 'host';
/** Temp files of other hosts are judged stale only after this long (their writer may still run). */
const REMOTE_STALE_MS = 24 * 3600_000;

function tempName(file: string): string {
  return `${file}.tmp-${process.pid}-${counter++}-${HOST}`;
}

/** Opens a temp file beside `file`, lets `write` fill it, then renames it into place. */
export function withAtomicFile(file: string, write: (fd: number) => void): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  const fd = fs.openSync(tmp, 'w');
  try {
    try {
      write(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Like withAtomicFile for writers that take a path (DuckDB's COPY, a file copy): `write` fills `tmp`. */
export async function withAtomicPath(file: string, write: (tmp: string) => Promise<void> | void): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  try {
    await write(tmp);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  withAtomicFile(file, (fd) => fs.writeFileSync(fd, data));
}

/** Copies a file of any size (the OS copies, no Buffer of it in memory), atomically. */
export function copyFileAtomic(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const tmp = tempName(to);
  try {
    fs.copyFileSync(from, tmp);
    fs.renameSync(tmp, to);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** True for a name written by withAtomicFile / withAtomicPath / copyFileAtomic before its rename. */
export function isTempName(name: string): boolean {
  return /\.tmp-\d+-\d+(-[A-Za-z0-9._]+)?$/.test(name);
}

/**
 * Whether a temp file was left by a writer that is gone: a process of this host that no longer
 * runs, or (other hosts, whose processes cannot be checked) a file untouched for a day.
 */
export function tempIsStale(name: string, mtimeMs: number): boolean {
  const m = /\.tmp-(\d+)-\d+(?:-([A-Za-z0-9._]+))?$/.exec(name);
  if (!m) return false;
  const host = m[2] ?? HOST; // names from before hosts were recorded: judged as local
  if (host !== HOST) return Date.now() - mtimeMs > REMOTE_STALE_MS;
  return !alive(Number(m[1]));
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
