/**
 * @file Image decoding and CLIP pixel preparation, in plain JavaScript so that the image pool's
 * worker threads start in a fraction of a second (a TypeScript worker must register tsx first,
 * which costs about 2 s per thread). Types: pixels.d.mts. The main thread uses the same code
 * (preprocess.ts re-exports it), so workers and `workers: 0` give identical floats.
 *
 * sharp decodes (applying the EXIF orientation, as transformers.js does), converts to 3-channel
 * sRGB (alpha dropped, grey replicated) and resizes so the shortest side is the target (size
 * computed as transformers.js computes it) with an antialiased kernel; one loop then
 * centre-crops (zero-padding images smaller than the crop, as transformers.js does), rescales,
 * normalises with the config's mean/std and writes channel-first floats.
 */
import fs from 'node:fs/promises';
import sharp from 'sharp';

/** Floats per preprocessed image. */
export function pixelCount(spec) {
  return 3 * spec.cropWidth * spec.cropHeight;
}

/** Output size of the shortest-edge resize, computed as transformers.js does. */
export function resizedSize(width, height, shortestEdge) {
  if (!shortestEdge) return [width, height];
  const f = Math.max(shortestEdge / width, shortestEdge / height);
  return [Math.floor(Number((width * f).toFixed(2))), Math.floor(Number((height * f).toFixed(2)))];
}

/**
 * Crops (or zero-pads) the centre of an interleaved RGB image, rescales, normalises and writes
 * CHW floats into `out` at `offset`.
 */
export function cropNormalize(rgb, width, height, spec, out, offset = 0) {
  const cw = spec.cropWidth;
  const ch = spec.cropHeight;
  // transformers.js: offset (size - crop) / 2 floored when cropping; padding floor((crop - size) / 2) first
  const left = width >= cw ? Math.floor((width - cw) / 2) : -Math.floor((cw - width) / 2);
  const top = height >= ch ? Math.floor((height - ch) / 2) : -Math.floor((ch - height) / 2);
  const plane = cw * ch;
  const s = spec.rescale;
  const a0 = s / spec.std[0], a1 = s / spec.std[1], a2 = s / spec.std[2];
  const b0 = -spec.mean[0] / spec.std[0], b1 = -spec.mean[1] / spec.std[1], b2 = -spec.mean[2] / spec.std[2];
  for (let y = 0; y < ch; y++) {
    const sy = y + top;
    const rowOut = offset + y * cw;
    const inside = sy >= 0 && sy < height;
    const rowIn = sy * width;
    for (let x = 0; x < cw; x++) {
      const sx = x + left;
      if (!inside || sx < 0 || sx >= width) {
        out[rowOut + x] = b0;
        out[rowOut + plane + x] = b1;
        out[rowOut + 2 * plane + x] = b2;
        continue;
      }
      const p = (rowIn + sx) * 3;
      out[rowOut + x] = rgb[p] * a0 + b0;
      out[rowOut + plane + x] = rgb[p + 1] * a1 + b1;
      out[rowOut + 2 * plane + x] = rgb[p + 2] * a2 + b2;
    }
  }
}

/**
 * Decoded, oriented, resized 3-channel pixels of an image file or buffer; throws if unreadable.
 * When the resized image covers the crop, sharp extracts the crop itself (libvips then resizes
 * only that region, about twice as fast) and the result is the crop, else the whole resized image.
 */
export async function decodeResized(input, spec) {
  const buf = typeof input === 'string' ? await fs.readFile(input) : input;
  const meta = await sharp(buf).metadata();
  if (!meta.width || !meta.height) throw new Error('no image dimensions');
  const swap = (meta.orientation ?? 1) >= 5;
  return resizeCrop(sharp(buf).rotate(), swap ? meta.height : meta.width, swap ? meta.width : meta.height, spec);
}

/** Shortest-edge resize of a w x h (display orientation) sharp image, cropped by sharp when it covers the crop. */
async function resizeCrop(img, w, h, spec) {
  const [nw, nh] = resizedSize(w, h, spec.shortestEdge);
  if (nw !== w || nh !== h) img = img.resize(nw, nh, { fit: 'fill', kernel: spec.kernel });
  if (nw >= spec.cropWidth && nh >= spec.cropHeight && (nw > spec.cropWidth || nh > spec.cropHeight))
    img = img.extract({ left: Math.floor((nw - spec.cropWidth) / 2), top: Math.floor((nh - spec.cropHeight) / 2), width: spec.cropWidth, height: spec.cropHeight });
  const { data, info } = await img.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
  return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

/** Preprocesses raw interleaved RGB pixels (e.g. a video frame) into `out` at `offset`. */
export async function preprocessRaw(rgb, width, height, spec, out, offset = 0) {
  const img = sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } });
  const r = await resizeCrop(img, width, height, spec);
  cropNormalize(r.rgb, r.width, r.height, spec, out, offset);
}

/**
 * Preprocesses one image file into `out` at `offset`; returns false (leaving zeros) when the
 * file is missing or cannot be decoded.
 */
export async function preprocessInto(file, spec, out, offset = 0) {
  if (!file) return false;
  try {
    const { rgb, width, height } = await decodeResized(file, spec);
    cropNormalize(rgb, width, height, spec, out, offset);
    return true;
  } catch {
    out.fill(0, offset, offset + pixelCount(spec));
    return false;
  }
}

/** Preprocesses a batch with `inflight` decodes at a time; ok[i] = 0 for unreadable files. */
export async function preprocessBatch(files, spec, inflight = 2) {
  const per = pixelCount(spec);
  const data = new Float32Array(files.length * per);
  const ok = new Uint8Array(files.length);
  let next = 0;
  const run = async () => {
    while (next < files.length) {
      const i = next++;
      ok[i] = (await preprocessInto(files[i], spec, data, i * per)) ? 1 : 0;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(inflight, files.length)) }, run));
  return { data, ok };
}
