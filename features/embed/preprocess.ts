/**
 * @file CLIP image preprocessing on raw pixels, as the model's `preprocessor_config.json`
 * prescribes, without building transformers.js RawImage objects. This file reads the config;
 * the pixel work is in pixels.mjs (plain JS, shared with the worker threads): sharp decodes
 * (applying the EXIF orientation, as transformers.js does), converts to 3-channel sRGB (alpha
 * dropped, grey replicated) and resizes so the shortest side is `size.shortest_edge` (output
 * size computed exactly as transformers.js computes it); then the centre crop (zero padding
 * when the image is smaller than the crop, as transformers.js does), rescaling, normalisation
 * with the config's mean/std, channel-first layout. Sizes, crop offsets and normalisation match
 * transformers.js exactly (the tests compare against AutoProcessor). The resampling differs a
 * little: sharp's kernels (bicubic for `resample: 3`) antialias when downscaling, like PIL in
 * the Python preprocessing CLIP was trained with; transformers.js's affine resize does not.
 *
 * A plain integer `size` (older configs, e.g. `"size": 224`) means the shortest edge, as in
 * Python transformers.
 *
 * @example
 *   const spec = clipImageSpec(JSON.parse(fs.readFileSync('.../preprocessor_config.json', 'utf8')));
 *   const out = new Float32Array(pixelCount(spec));
 *   const ok = await preprocessInto('/data/img/1.jpg', spec, out); // false: unreadable, zeros
 */
import { UserError } from '../../core/errors.ts';
import type { ClipImageSpec } from './pixels.mjs';

export type { ClipImageSpec } from './pixels.mjs';
export { cropNormalize, decodeResized, pixelCount, preprocessBatch, preprocessInto, preprocessRaw, resizedSize } from './pixels.mjs';

const KERNELS: Record<number, ClipImageSpec['kernel']> = { 0: 'nearest', 1: 'lanczos3', 2: 'linear', 3: 'cubic' };

type Cfg = Record<string, unknown>;

function triple(v: unknown, fallback: number, what: string, where: string): [number, number, number] {
  if (v === undefined || v === null) return [fallback, fallback, fallback];
  if (typeof v === 'number') return [v, v, v];
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number')) return [v[0], v[1], v[2]];
  throw new UserError(`${where}: ${what} must be a number or 3 numbers, got ${JSON.stringify(v)}`);
}

/** Reads the preprocessing geometry and normalisation from a CLIP `preprocessor_config.json`. */
export function clipImageSpec(cfg: Cfg, where = 'preprocessor_config.json'): ClipImageSpec {
  const size = cfg.size ?? cfg.image_size;
  const doResize = (cfg.do_resize as boolean | undefined) ?? size !== undefined;
  let shortestEdge = 0;
  let resizeWH: [number, number] | null = null;
  if (doResize) {
    if (typeof size === 'number') shortestEdge = size;
    else if (size && typeof size === 'object' && typeof (size as Cfg).shortest_edge === 'number') shortestEdge = (size as Cfg).shortest_edge as number;
    else if (size && typeof size === 'object' && typeof (size as Cfg).height === 'number' && typeof (size as Cfg).width === 'number')
      resizeWH = [(size as Cfg).width as number, (size as Cfg).height as number];
    else throw new UserError(`${where}: unsupported size ${JSON.stringify(size)} (expected a number, {shortest_edge} or {height, width})`);
  }
  let cropWidth: number;
  let cropHeight: number;
  const crop = cfg.crop_size;
  if (cfg.do_center_crop && crop !== undefined) {
    if (typeof crop === 'number') cropWidth = cropHeight = crop;
    else if (crop && typeof crop === 'object' && typeof (crop as Cfg).width === 'number' && typeof (crop as Cfg).height === 'number') {
      cropWidth = (crop as Cfg).width as number;
      cropHeight = (crop as Cfg).height as number;
    } else throw new UserError(`${where}: unsupported crop_size ${JSON.stringify(crop)}`);
  } else if (resizeWH) {
    [cropWidth, cropHeight] = resizeWH;
  } else {
    throw new UserError(`${where}: images need a fixed size for batching; expected do_center_crop with crop_size, or size {height, width}`);
  }
  if (resizeWH) {
    // Resizing straight to the crop size: the same as shortest edge == crop for square crops.
    if (resizeWH[0] !== resizeWH[1]) throw new UserError(`${where}: non-square size ${JSON.stringify(size)} is not supported`);
    shortestEdge = resizeWH[0];
  }
  const resample = (cfg.resample as number | undefined) ?? 2;
  const kernel = KERNELS[resample];
  if (!kernel) throw new UserError(`${where}: unsupported resample ${resample} (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic)`);
  const doRescale = (cfg.do_rescale as boolean | undefined) ?? true;
  const rescale = doRescale ? ((cfg.rescale_factor as number | undefined) ?? 1 / 255) : 1;
  const doNormalize = Boolean(cfg.do_normalize);
  return {
    shortestEdge,
    cropWidth,
    cropHeight,
    kernel,
    rescale,
    mean: doNormalize ? triple(cfg.image_mean ?? cfg.mean, 0, 'image_mean', where) : [0, 0, 0],
    std: doNormalize ? triple(cfg.image_std ?? cfg.std, 1, 'image_std', where) : [1, 1, 1],
  };
}
