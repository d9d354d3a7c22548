/**
 * @file The models folder and model loading through @huggingface/transformers, offline first.
 *
 * A model lives at `<models dir>/<model id>/` in the Hugging Face repository layout
 * (`config.json`, `tokenizer.json`, `tokenizer_config.json`, `preprocessor_config.json`,
 * `onnx/<file><dtype suffix>.onnx`), which is also where transformers.js puts downloads when its
 * cache folder is the models folder, so `smp models fetch` and the loaders agree on paths.
 * The folder comes from the pipeline's `models_dir`, else SMP_MODELS_DIR, else
 * ~/.cache/smp-kit/models. Downloads are off (`env.allowRemoteModels = false`) unless a feature
 * sets `allow_download: true` or SMP_ALLOW_DOWNLOAD=1 (set by `smp run --allow-download`).
 * Before loading, the needed files are checked, because transformers.js's own error for a
 * missing local model is cryptic; the error names the folder, the missing files and the fetch
 * command.
 *
 * @example
 *   const vision = await loadClipVision('Xenova/clip-vit-base-patch32', { modelsDir });
 *   const { image_embeds } = await vision.model({ pixel_values }); // vision.dim === 512
 *   const text = await loadTextEncoder('Xenova/all-MiniLM-L6-v2', { modelsDir });
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  AutoConfig,
  AutoProcessor,
  AutoTokenizer,
  CLIPTextModelWithProjection,
  CLIPVisionModelWithProjection,
  env,
  pipeline,
  Tensor,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import { UserError } from '../../core/errors.ts';
import { clipImageSpec, pixelCount, type ClipImageSpec } from './preprocess.ts';

export const DEFAULT_CLIP_MODEL = 'Xenova/clip-vit-base-patch32';
export const DEFAULT_TEXT_MODEL = 'Xenova/all-MiniLM-L6-v2';

/** ONNX weight variants and their file suffixes (transformers.js naming). */
export const DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const;
export type Dtype = (typeof DTYPES)[number];
const SUFFIX: Record<Dtype, string> = { fp32: '', fp16: '_fp16', q8: '_quantized', int8: '_int8', uint8: '_uint8', q4: '_q4', q4f16: '_q4f16', bnb4: '_bnb4' };

/** What a model is loaded for; decides which files must be present. */
export type ModelRole = 'clip-vision' | 'clip-text' | 'feature-extraction';

export function requiredFiles(role: ModelRole, dtype: Dtype = 'fp32'): string[] {
  const s = SUFFIX[dtype];
  switch (role) {
    case 'clip-vision':
      return ['config.json', 'preprocessor_config.json', `onnx/vision_model${s}.onnx`];
    case 'clip-text':
      return ['config.json', 'tokenizer.json', 'tokenizer_config.json', `onnx/text_model${s}.onnx`];
    case 'feature-extraction':
      return ['config.json', 'tokenizer.json', 'tokenizer_config.json', `onnx/model${s}.onnx`];
  }
}

const MODEL_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** Folder of a model inside the models folder; the id must look like `owner/name`. */
export function modelFolder(modelsDir: string, id: string): string {
  if (!MODEL_ID.test(id) || id.includes('..')) throw new UserError(`model id "${id}": expected owner/name, e.g. ${DEFAULT_CLIP_MODEL}`);
  return path.join(modelsDir, ...id.split('/'));
}

/** True when the environment (SMP_ALLOW_DOWNLOAD=1, set by `smp run --allow-download`) allows downloads. */
export function downloadsAllowedByEnv(): boolean {
  return /^(1|true|yes)$/i.test(process.env.SMP_ALLOW_DOWNLOAD ?? '');
}

/** A model an embedding kind needs (FeatureDef.models). */
export interface ModelNeed {
  id: string;
  roles: ModelRole[];
  dtype: Dtype;
  /** The block may download it (its `allow_download` param). */
  allowDownload: boolean;
}

/** What is missing of one model: its folder, the files its roles need and those absent. */
export interface MissingModel {
  id: string;
  dtype: Dtype;
  folder: string;
  files: string[];
  missing: string[];
  /** Feature ids that need it, when known (named in the message). */
  users?: string[];
}

/** The missing files of `id` for its roles, or null when all are there. */
export function missingModel(modelsDir: string, id: string, roles: readonly ModelRole[], dtype: Dtype = 'fp32'): MissingModel | null {
  const folder = modelFolder(modelsDir, id);
  const files = [...new Set(roles.flatMap((r) => requiredFiles(r, dtype)))];
  const missing = files.filter((f) => !fs.existsSync(path.join(folder, f)));
  return missing.length ? { id, dtype, folder, files, missing } : null;
}

/** One message for any number of missing models: what is missing, the folder, the fetch commands. */
export function missingModelsMessage(modelsDir: string, list: readonly MissingModel[]): string {
  const what = (m: MissingModel) =>
    `model "${m.id}" ${fs.existsSync(m.folder) ? `is incomplete in ${m.folder}: missing ${m.missing.join(', ')}` : `is not in the models folder ${modelsDir} (no ${m.folder})`}` +
    (m.users?.length ? ` (needed by ${m.users.join(', ')})` : '');
  const fetch = (m: MissingModel) => `smp models fetch ${m.id}${m.dtype === 'fp32' ? '' : ` --dtype ${m.dtype}`} --dir ${JSON.stringify(modelsDir)}`;
  const orDownload = `or let the pipeline download ${list.length > 1 ? 'them' : 'it'} with \`allow_download: true\` in the feature's params (or \`smp run --allow-download\`).`;
  if (list.length === 1) {
    const m = list[0];
    return (
      `${what(m)}. Download it with \`${fetch(m)}\` on a machine with network access ` +
      `(or copy the Hugging Face repository files ${m.files.join(', ')} into ${m.folder}), ${orDownload}`
    );
  }
  return (
    `${list.length} models are missing from the models folder ${modelsDir}:\n${list.map((m) => `  - ${what(m)}`).join('\n')}\n` +
    `Download them on a machine with network access with\n${list.map((m) => `  ${fetch(m)}`).join('\n')}\n` +
    `(or copy each Hugging Face repository's files into its folder), ${orDownload}`
  );
}

/**
 * Checks that `id` has every file its roles need; throws a UserError naming the folder, the
 * missing files and the command that fetches them.
 */
export function checkModel(modelsDir: string, id: string, roles: readonly ModelRole[], dtype: Dtype = 'fp32'): string {
  const m = missingModel(modelsDir, id, roles, dtype);
  if (m) throw new UserError(missingModelsMessage(modelsDir, [m]));
  return modelFolder(modelsDir, id);
}

export interface LoadOptions {
  modelsDir: string;
  /** Fetch missing files from the Hugging Face hub (default: SMP_ALLOW_DOWNLOAD). */
  allowDownload?: boolean;
  dtype?: Dtype;
  /** ONNX Runtime intra-op threads (default: its own choice, all cores). */
  threads?: number;
  /** Where the model runs (embed/device.ts resolves `auto` first; default cpu). */
  device?: 'cpu' | 'cuda';
}

/** Points transformers.js at the models folder; remote access only when allowed. */
function configure(modelsDir: string, allowDownload: boolean): void {
  env.allowLocalModels = true;
  env.localModelPath = modelsDir.endsWith(path.sep) ? modelsDir : modelsDir + path.sep;
  env.cacheDir = modelsDir;
  env.useFSCache = true;
  env.allowRemoteModels = allowDownload;
  const host = process.env.HF_ENDPOINT || 'https://huggingface.co/';
  env.remoteHost = host.endsWith('/') ? host : host + '/';
}

function pretrainedOptions(o: LoadOptions, allowDownload: boolean): Record<string, unknown> {
  return {
    cache_dir: o.modelsDir,
    local_files_only: !allowDownload,
    dtype: o.dtype ?? 'fp32',
    device: o.device ?? 'cpu',
    ...(o.threads ? { session_options: { intraOpNumThreads: o.threads, interOpNumThreads: 1 } } : {}),
  };
}

/** Identity of the model files: config and tokenizer contents, weight file names and sizes. */
function fingerprint(folder: string, files: readonly string[]): string {
  const h = crypto.createHash('sha256');
  for (const f of [...files].sort()) {
    const full = path.join(folder, f);
    if (f.endsWith('.json')) h.update(f).update(fs.readFileSync(full));
    else h.update(`${f}:${fs.statSync(full).size}`);
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

const loaded = new Map<string, Promise<unknown>>();

/**
 * Loads once per process for the same (folder, id, role, dtype, threads). A failure after the
 * file check (a download that failed, a corrupt or incompatible file) becomes a UserError that
 * names the model folder and how to re-fetch, with transformers.js's message appended.
 */
function memo<T>(key: string, id: string, roles: ModelRole[], o: LoadOptions, load: () => Promise<T>): Promise<T> {
  let p = loaded.get(key) as Promise<T> | undefined;
  if (!p) {
    p = load().catch((e: unknown) => {
      loaded.delete(key);
      if (e instanceof UserError) throw e;
      const folder = modelFolder(o.modelsDir, id);
      const dtype = o.dtype ?? 'fp32';
      const missing = [...new Set(roles.flatMap((r) => requiredFiles(r, dtype)))].filter((f) => !fs.existsSync(path.join(folder, f)));
      const msg = (e as Error)?.message ?? String(e);
      throw new UserError(
        missing.length
          ? `model "${id}": could not download ${missing.join(', ')} into ${folder} (${msg}). Without network, fetch it elsewhere with \`smp models fetch ${id} --dir <folder>\` and copy it here.`
          : `model "${id}" in ${folder} could not be loaded (${msg}). Its files may be damaged or not a ${roles.join('/')} model; fetch it again with \`smp models fetch ${id}\`.`,
      );
    });
    loaded.set(key, p);
  }
  return p;
}

async function prepare(id: string, roles: ModelRole[], o: LoadOptions): Promise<{ folder: string; allow: boolean; files: string[] }> {
  const allow = o.allowDownload ?? downloadsAllowedByEnv();
  const dtype = o.dtype ?? 'fp32';
  const folder = modelFolder(o.modelsDir, id);
  const files = [...new Set(roles.flatMap((r) => requiredFiles(r, dtype)))];
  if (!allow) checkModel(o.modelsDir, id, roles, dtype);
  configure(o.modelsDir, allow);
  return { folder, allow, files };
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

export interface ClipVision {
  id: string;
  model: PreTrainedModel;
  spec: ClipImageSpec;
  dim: number;
  fingerprint: string;
  /** Embeds preprocessed images (n x 3 x H x W floats); returns n x dim, not normalised. */
  embed(pixels: Float32Array, n: number): Promise<Float32Array>;
}

export function loadClipVision(id: string, o: LoadOptions): Promise<ClipVision> {
  return memo(`vision|${o.modelsDir}|${id}|${o.dtype}|${o.threads}|${o.device ?? 'cpu'}`, id, ['clip-vision'], o, async () => {
    const { folder, allow, files } = await prepare(id, ['clip-vision'], o);
    const model = await CLIPVisionModelWithProjection.from_pretrained(id, pretrainedOptions(o, allow));
    const spec = clipImageSpec(readJson(path.join(folder, 'preprocessor_config.json')), path.join(folder, 'preprocessor_config.json'));
    const embed = async (pixels: Float32Array, n: number): Promise<Float32Array> => {
      const input = new Tensor('float32', pixels, [n, 3, spec.cropHeight, spec.cropWidth]);
      const out = (await model({ pixel_values: input })) as Record<string, Tensor>;
      const t = out.image_embeds ?? out.pooler_output;
      if (!t) throw new Error(`${id}: vision model returned ${Object.keys(out).join(', ')}, expected image_embeds`);
      return Float32Array.from(t.data as Float32Array);
    };
    const probe = await embed(new Float32Array(pixelCount(spec)), 1);
    return { id, model, spec, dim: probe.length, fingerprint: fingerprint(folder, files), embed };
  });
}

/** Token ids with the model's special tokens kept when a text is cut to `maxLength`. */
export interface TextEncoderBase {
  id: string;
  tokenizer: PreTrainedTokenizer;
  /** Longest token sequence the model takes (tokenizer and position limits). */
  maxLength: number;
  dim: number;
  fingerprint: string;
}

export interface ClipText extends TextEncoderBase {
  /** Embeds texts; returns n x dim, not normalised. */
  embed(texts: readonly string[], maxLength?: number): Promise<Float32Array>;
}

export interface TextEncoder extends TextEncoderBase {
  /** Mean-pooled (over the attention mask) last hidden states; n x dim, not normalised. */
  embed(texts: readonly string[], maxLength?: number): Promise<Float32Array>;
}

/**
 * Tokenises a batch, truncating each text's own tokens so the special tokens around them stay
 * (transformers.js cuts after adding them, which drops CLIP's end token), and pads to the
 * longest row with the pad token.
 */
export function encodeTexts(tokenizer: PreTrainedTokenizer, texts: readonly string[], maxLength: number): { input_ids: Tensor; attention_mask: Tensor } {
  const [prefix, suffix] = specialTokens(tokenizer);
  const room = Math.max(1, maxLength - prefix.length - suffix.length);
  const rows = texts.map((t) => [...prefix, ...tokenizer.encode(t, { add_special_tokens: false }).slice(0, room), ...suffix]);
  const width = Math.max(1, ...rows.map((r) => r.length));
  const pad = tokenizer.pad_token_id ?? 0;
  const ids = new BigInt64Array(rows.length * width).fill(BigInt(pad));
  const mask = new BigInt64Array(rows.length * width);
  rows.forEach((r, i) => {
    for (let j = 0; j < r.length; j++) {
      ids[i * width + j] = BigInt(r[j]);
      mask[i * width + j] = 1n;
    }
  });
  return { input_ids: new Tensor('int64', ids, [rows.length, width]), attention_mask: new Tensor('int64', mask, [rows.length, width]) };
}

const specialCache = new WeakMap<PreTrainedTokenizer, [number[], number[]]>();

/** Special tokens the tokenizer puts before and after a single text (e.g. [CLS] / [SEP]). */
function specialTokens(tokenizer: PreTrainedTokenizer): [number[], number[]] {
  let s = specialCache.get(tokenizer);
  if (!s) {
    const probe = 'a';
    const full = tokenizer.encode(probe);
    const bare = tokenizer.encode(probe, { add_special_tokens: false });
    let at = -1;
    for (let i = 0; i + bare.length <= full.length && at < 0; i++) if (bare.every((t, j) => full[i + j] === t)) at = i;
    s = at < 0 ? [[], []] : [full.slice(0, at), full.slice(at + bare.length)];
    specialCache.set(tokenizer, s);
  }
  return s;
}

function textMaxLength(tokenizer: PreTrainedTokenizer, config: Record<string, unknown>): number {
  const limits = [tokenizer.model_max_length, (config.text_config as Record<string, unknown> | undefined)?.max_position_embeddings, config.max_position_embeddings]
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 1e6);
  return limits.length ? Math.min(...limits) : 512;
}

export function loadClipText(id: string, o: LoadOptions): Promise<ClipText> {
  return memo(`cliptext|${o.modelsDir}|${id}|${o.dtype}|${o.threads}|${o.device ?? 'cpu'}`, id, ['clip-text'], o, async () => {
    const { folder, allow, files } = await prepare(id, ['clip-text'], o);
    const opts = pretrainedOptions(o, allow);
    const tokenizer = await AutoTokenizer.from_pretrained(id, opts);
    const model = await CLIPTextModelWithProjection.from_pretrained(id, opts);
    const maxLength = textMaxLength(tokenizer, readJson(path.join(folder, 'config.json')));
    const embed = async (texts: readonly string[], max = maxLength): Promise<Float32Array> => {
      const inputs = encodeTexts(tokenizer, texts, Math.min(max, maxLength));
      const out = (await model(inputs)) as Record<string, Tensor>;
      const t = out.text_embeds ?? out.pooler_output;
      if (!t) throw new Error(`${id}: text model returned ${Object.keys(out).join(', ')}, expected text_embeds`);
      return Float32Array.from(t.data as Float32Array);
    };
    const dim = (await embed(['a'])).length;
    return { id, tokenizer, model, maxLength, dim, fingerprint: fingerprint(folder, files), embed };
  });
}

/** Any `feature-extraction` model (BERT, MiniLM, MPNet, ...), loaded through transformers.js's pipeline. */
export function loadTextEncoder(id: string, o: LoadOptions): Promise<TextEncoder> {
  return memo(`fe|${o.modelsDir}|${id}|${o.dtype}|${o.threads}|${o.device ?? 'cpu'}`, id, ['feature-extraction'], o, async () => {
    const { folder, allow, files } = await prepare(id, ['feature-extraction'], o);
    const extractor = await pipeline('feature-extraction', id, pretrainedOptions(o, allow) as never);
    const tokenizer = extractor.tokenizer as PreTrainedTokenizer;
    const model = extractor.model as PreTrainedModel;
    const maxLength = textMaxLength(tokenizer, readJson(path.join(folder, 'config.json')));
    const embed = async (texts: readonly string[], max = maxLength): Promise<Float32Array> => {
      const inputs = encodeTexts(tokenizer, texts, Math.min(max, maxLength));
      const out = (await model(inputs)) as Record<string, Tensor>;
      const h = out.last_hidden_state ?? out.token_embeddings ?? out.logits;
      if (!h || h.dims.length !== 3) throw new Error(`${id}: expected last_hidden_state [batch, tokens, hidden], got ${Object.keys(out).join(', ')}`);
      const [n, tokens, hidden] = h.dims as number[];
      const hd = h.data as Float32Array;
      const mask = inputs.attention_mask.data as BigInt64Array;
      const res = new Float32Array(n * hidden);
      for (let i = 0; i < n; i++) {
        let count = 0;
        for (let t = 0; t < tokens; t++) {
          if (mask[i * tokens + t] === 0n) continue;
          count++;
          const base = (i * tokens + t) * hidden;
          for (let k = 0; k < hidden; k++) res[i * hidden + k] += hd[base + k];
        }
        if (count) for (let k = 0; k < hidden; k++) res[i * hidden + k] /= count;
      }
      return res;
    };
    const dim = (await embed(['a'])).length;
    return { id, tokenizer, maxLength, dim, fingerprint: fingerprint(folder, files), embed };
  });
}

// ---------------------------------------------------------------- smp models list / fetch

export interface ModelListing {
  id: string;
  folder: string;
  bytes: number;
  /** Roles whose files are all present (fp32 or any dtype found). */
  roles: ModelRole[];
  dtypes: Dtype[];
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    total += e.isDirectory() ? folderBytes(full) : e.isFile() ? fs.statSync(full).size : 0;
  }
  return total;
}

/** Models present in the folder: every `<owner>/<name>/config.json`. */
export function listModels(modelsDir: string): ModelListing[] {
  if (!fs.existsSync(modelsDir)) return [];
  const out: ModelListing[] = [];
  for (const owner of fs.readdirSync(modelsDir, { withFileTypes: true })) {
    if (!owner.isDirectory()) continue;
    for (const name of fs.readdirSync(path.join(modelsDir, owner.name), { withFileTypes: true })) {
      const folder = path.join(modelsDir, owner.name, name.name);
      if (!name.isDirectory() || !fs.existsSync(path.join(folder, 'config.json'))) continue;
      const dtypes = DTYPES.filter((d) => ['vision_model', 'text_model', 'model'].some((f) => fs.existsSync(path.join(folder, 'onnx', `${f}${SUFFIX[d]}.onnx`))));
      const roles = (['clip-vision', 'clip-text', 'feature-extraction'] as ModelRole[]).filter((r) =>
        dtypes.some((d) => requiredFiles(r, d).every((f) => fs.existsSync(path.join(folder, f)))),
      );
      out.push({ id: `${owner.name}/${name.name}`, folder, bytes: folderBytes(folder), roles, dtypes });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export interface FetchOptions {
  modelsDir: string;
  dtype?: Dtype;
  /** Mirror of the Hugging Face hub (default HF_ENDPOINT or https://huggingface.co/). */
  host?: string;
  /** Called with download progress events of transformers.js. */
  onProgress?: (e: { status: string; file?: string; progress?: number; loaded?: number; total?: number }) => void;
}

/**
 * Downloads a model into the models folder through transformers.js (remote allowed, the
 * models folder as its cache): CLIP models (model_type clip) get both towers, processor and
 * tokenizer; anything else is fetched as a feature-extraction model. Returns what is present.
 */
export async function fetchModel(id: string, o: FetchOptions): Promise<ModelListing> {
  const folder = modelFolder(o.modelsDir, id);
  configure(o.modelsDir, true);
  if (o.host) env.remoteHost = o.host.endsWith('/') ? o.host : o.host + '/';
  const opts = { cache_dir: o.modelsDir, dtype: o.dtype ?? 'fp32', device: 'cpu', progress_callback: o.onProgress };
  try {
    const config = (await AutoConfig.from_pretrained(id, opts as never)) as unknown as { model_type?: string };
    if (config.model_type === 'clip') {
      await AutoProcessor.from_pretrained(id, opts as never);
      await AutoTokenizer.from_pretrained(id, opts as never);
      await (await CLIPVisionModelWithProjection.from_pretrained(id, opts as never)).dispose();
      await (await CLIPTextModelWithProjection.from_pretrained(id, opts as never)).dispose();
    } else {
      const p = await pipeline('feature-extraction', id, opts as never);
      await p.dispose();
    }
  } catch (e) {
    const msg = (e as Error).message;
    const hint = /fetch failed|ENOTFOUND|ECONNREFUSED|EAI_AGAIN/.test(msg)
      ? ` (no network? On an offline machine copy the model's files into ${folder}; for a mirror pass --host or set HF_ENDPOINT)`
      : '';
    throw new UserError(`smp models fetch ${id}: download into ${folder} failed: ${msg}${hint}`);
  } finally {
    env.allowRemoteModels = false;
  }
  for (const key of [...loaded.keys()]) if (key.includes(`|${id}|`)) loaded.delete(key);
  return listModels(o.modelsDir).find((m) => m.id === id) ?? { id, folder, bytes: 0, roles: [], dtypes: [] };
}
