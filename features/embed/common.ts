/**
 * @file Pieces shared by the embedding kinds (clip-image, clip-text, text-embedding,
 * video-frames): the common params, row keys, the row-cache folder of a (model, input kind)
 * and the output block layout `emb_0 .. emb_<d-1>, missing`, which vectors.ts (kmeans, pca,
 * cross-modal) reads as "vector columns plus a missing flag".
 *
 * @example
 *   const keys = table.media.map((f, r) => `${table.pid[r]}:${fileKey(f)}`);
 *   const dir = rowCacheDir(ctx.cacheDir, 'clip-image', { model, dtype, fingerprint });
 *   return embeddingBlock(data, missing, dim);
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { hashOf } from '../../core/cache/block-cache.ts';
import type { Matrix } from '../../core/matrix.ts';
import type { Column, Table } from '../../core/data/table.ts';
import { UserError } from '../../core/errors.ts';
import { DTYPES, type LoadOptions, type ModelNeed, type ModelRole } from './models.ts';
import { DEVICES, resolveDevice, type Device } from './device.ts';

/** Params every model-backed kind takes. */
export const runParams = {
  dtype: z.enum(DTYPES).default('fp32').describe('ONNX weight variant: fp32 (onnx/<file>.onnx), q8 (<file>_quantized.onnx), fp16, ...'),
  batch_size: z.number().int().min(1).max(4096).default(32).describe('inputs per model call'),
  shard_rows: z.number().int().min(1).default(1024).describe('rows per embedding-cache shard; an interrupted run resumes from the last complete shard'),
  allow_download: z.boolean().default(false).describe('download the model into the models folder if it is missing (needs network)'),
  threads: z.number().int().min(1).optional().describe('ONNX Runtime threads for inference on the CPU (default: all cores)'),
  device: z.enum(DEVICES).default('cpu').describe("where the model runs: cpu; cuda (onnxruntime-node's CUDA provider; an error when it cannot run); auto (cuda when it runs, else cpu with a log line)"),
  cuda_batch_size: z.number().int().min(1).max(8192).default(256).describe('inputs per model call on cuda (batch_size is the CPU one)'),
};

/** How a model-backed kind runs its model: load options (device resolved) and the batch size of that device. */
export async function modelRuntime(
  ctx: { modelsDir: string; log: { info(stage: string, msg: string): void } },
  p: { dtype: LoadOptions['dtype']; allow_download: boolean; threads?: number; device: Device; batch_size: number; cuda_batch_size: number },
): Promise<{ load: LoadOptions; batchSize: number }> {
  const device = await resolveDevice(p.device, ctx.log);
  return { load: { ...loadOptions(ctx.modelsDir, p), device }, batchSize: device === 'cuda' ? p.cuda_batch_size : p.batch_size };
}

/** The model a model-backed kind loads, for the preflight check (FeatureDef.models). */
export function modelNeeds(p: { model: string; dtype: LoadOptions['dtype']; allow_download: boolean }, roles: ModelRole[]): ModelNeed[] {
  return [{ id: p.model, roles, dtype: p.dtype ?? 'fp32', allowDownload: p.allow_download }];
}

function loadOptions(modelsDir: string, p: { dtype: LoadOptions['dtype']; allow_download: boolean; threads?: number }): LoadOptions {
  return { modelsDir, dtype: p.dtype, allowDownload: p.allow_download || undefined, threads: p.threads };
}

/** Identity of an input file: size and modification time, `absent` or `none`. */
export function fileKey(file: string | null): string {
  if (!file) return 'none';
  try {
    const st = fs.statSync(file);
    return st.isFile() ? `${st.size}-${Math.round(st.mtimeMs)}` : 'absent';
  } catch {
    return 'absent';
  }
}

export function textKey(text: string): string {
  return crypto.createHash('sha1').update(text).digest('hex').slice(0, 16);
}

/** Row-cache folder of one (kind, model, input, preprocessing) combination. */
export function rowCacheDir(cacheDir: string, kind: string, identity: Record<string, unknown>): string {
  return path.join(cacheDir, 'embed', `${kind}-${hashOf(identity)}`);
}

/**
 * The output block: dim embedding columns and a 0/1 `missing` flag. `data` holds n rows of
 * dim + 1 floats (extractEmbeddings with stride dim + 1) and becomes the block without a copy.
 */
export function embeddingBlock(data: Float32Array, missing: Uint8Array, dim: number, names?: readonly string[]): Matrix {
  const n = missing.length;
  const cols = dim + 1;
  if (data.length !== n * cols) throw new Error(`embedding block: ${data.length} floats for ${n} rows of ${cols}`);
  for (let r = 0; r < n; r++) data[r * cols + dim] = missing[r];
  const colNames = [...(names ?? Array.from({ length: dim }, (_, j) => `emb_${j}`)), 'missing'];
  return { rows: n, cols, data, names: colNames, categorical: new Array<boolean>(cols).fill(false) };
}

/** Text of a string or list column per row ('' when missing). */
export function textColumn(table: Table, name: string, kind: string): string[] {
  const c: Column | undefined = table.columns[name];
  if (!c) throw new UserError(`${kind}: the dataset has no column "${name}"; text columns: ${textColumns(table).join(', ') || 'none'}`);
  if (c.type === 'string') return c.values.map((v) => v ?? '');
  if (c.type === 'list') return c.values.map((v) => v.join(' '));
  throw new UserError(`${kind}: column "${name}" is ${c.type}, not text; text columns: ${textColumns(table).join(', ')}`);
}

function textColumns(table: Table): string[] {
  return Object.entries(table.columns)
    .filter(([, c]) => c.type === 'string' || c.type === 'list')
    .map(([k]) => k)
    .sort();
}

/** Counts and logs rows flagged missing, with a few examples. */
export function reportMissing(log: { warn(stage: string, msg: string, data?: Record<string, unknown>): void }, kind: string, missing: Uint8Array, describe: (r: number) => string): void {
  const rows: number[] = [];
  for (let r = 0; r < missing.length; r++) if (missing[r]) rows.push(r);
  if (rows.length === 0) return;
  const examples = rows.slice(0, 3).map(describe);
  log.warn(kind, `${rows.length} of ${missing.length} rows have no usable input (zero vector, missing = 1), e.g. ${examples.join('; ')}`, { missing: rows.length, examples });
}
