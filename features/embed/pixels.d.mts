/** Types of pixels.mjs (plain JavaScript so worker threads start without tsx). */

/** Geometry and normalisation of CLIP preprocessing (from preprocessor_config.json). */
export interface ClipImageSpec {
  /** Target of the shortest side after resizing; 0 = no resize. */
  readonly shortestEdge: number;
  readonly cropWidth: number;
  readonly cropHeight: number;
  readonly kernel: 'nearest' | 'linear' | 'cubic' | 'lanczos3';
  readonly rescale: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

export function pixelCount(spec: ClipImageSpec): number;
export function resizedSize(width: number, height: number, shortestEdge: number): [number, number];
export function cropNormalize(rgb: Uint8Array, width: number, height: number, spec: ClipImageSpec, out: Float32Array, offset?: number): void;
export function decodeResized(input: string | Buffer, spec: ClipImageSpec): Promise<{ rgb: Uint8Array; width: number; height: number }>;
export function preprocessInto(file: string | null, spec: ClipImageSpec, out: Float32Array, offset?: number): Promise<boolean>;
export function preprocessBatch(files: readonly (string | null)[], spec: ClipImageSpec, inflight?: number): Promise<{ data: Float32Array; ok: Uint8Array }>;
export function preprocessRaw(rgb: Uint8Array, width: number, height: number, spec: ClipImageSpec, out: Float32Array, offset?: number): Promise<void>;
