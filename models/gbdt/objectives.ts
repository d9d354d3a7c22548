/**
 * @file Objectives: gradients and hessians (optionally weighted), the initial score, the
 * output transform, and for l1-type losses the leaf refit (LightGBM's "leaf renewal": a leaf's
 * value becomes the weighted median of its residuals, since l1 gradients carry no scale).
 *
 * @example
 *   const obj = objective('huber', 1);
 *   obj.gradients(y, score, weight, gh); // gh = [g0, h0, g1, h1, ...]
 */

export type ObjectiveName = 'l2' | 'l1' | 'huber' | 'pseudo_huber' | 'mape' | 'binary';

export interface Objective {
  name: ObjectiveName;
  /** Initial raw score (before any tree). */
  init(y: Float64Array, w: Float64Array | undefined): number;
  /** Fills gh with interleaved gradient/hessian of the loss at raw score s. */
  gradients(y: Float64Array, s: Float64Array, w: Float64Array | undefined, gh: Float64Array): void;
  /** Raw score -> prediction. */
  transform(raw: number): number;
  /** Row weights of the leaf refit (median of residuals) or null when leaves keep Newton values. */
  renewWeights: ((y: Float64Array, w: Float64Array | undefined) => Float64Array) | null;
  /** Whether hessians are the same for every row (with unit weights). */
  constantHessian: boolean;
}

/** Weighted median (lower) of values v with weights w over indices [0, n). */
export function weightedMedian(v: Float64Array, w: Float64Array | null, n: number): number {
  if (n === 0) return 0;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => v[a] - v[b] || a - b);
  let total = 0;
  for (let i = 0; i < n; i++) total += w ? w[i] : 1;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += w ? w[order[i]] : 1;
    if (acc >= total / 2) return v[order[i]];
  }
  return v[order[n - 1]];
}

function mean(y: Float64Array, w: Float64Array | undefined): number {
  let s = 0;
  let sw = 0;
  for (let i = 0; i < y.length; i++) {
    const wi = w ? w[i] : 1;
    s += wi * y[i];
    sw += wi;
  }
  return sw > 0 ? s / sw : 0;
}

function median(y: Float64Array, w: Float64Array | undefined): number {
  return weightedMedian(y, w ? Float64Array.from(w) : null, y.length);
}

const identity = (x: number) => x;

function mapeWeights(y: Float64Array, w: Float64Array | undefined): Float64Array {
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = (w ? w[i] : 1) / Math.max(Math.abs(y[i]), 1e-9);
  return out;
}

export function objective(name: ObjectiveName, delta: number): Objective {
  switch (name) {
    case 'l2':
      return {
        name,
        init: mean,
        transform: identity,
        renewWeights: null,
        constantHessian: true,
        gradients(y, s, w, gh) {
          for (let i = 0; i < y.length; i++) {
            const wi = w ? w[i] : 1;
            gh[2 * i] = wi * (s[i] - y[i]);
            gh[2 * i + 1] = wi;
          }
        },
      };
    case 'l1':
      return {
        name,
        init: median,
        transform: identity,
        renewWeights: (y, w) => (w ? Float64Array.from(w) : new Float64Array(y.length).fill(1)),
        constantHessian: true,
        gradients(y, s, w, gh) {
          for (let i = 0; i < y.length; i++) {
            const wi = w ? w[i] : 1;
            const r = s[i] - y[i];
            gh[2 * i] = wi * (r > 0 ? 1 : r < 0 ? -1 : 0);
            gh[2 * i + 1] = wi;
          }
        },
      };
    case 'mape':
      return {
        name,
        init: (y, w) => weightedMedian(y, mapeWeights(y, w), y.length),
        transform: identity,
        renewWeights: mapeWeights,
        constantHessian: false,
        gradients(y, s, w, gh) {
          for (let i = 0; i < y.length; i++) {
            const wi = (w ? w[i] : 1) / Math.max(Math.abs(y[i]), 1e-9);
            const r = s[i] - y[i];
            gh[2 * i] = wi * (r > 0 ? 1 : r < 0 ? -1 : 0);
            gh[2 * i + 1] = wi;
          }
        },
      };
    case 'huber':
      return {
        name,
        init: median,
        transform: identity,
        renewWeights: null,
        constantHessian: true,
        gradients(y, s, w, gh) {
          for (let i = 0; i < y.length; i++) {
            const wi = w ? w[i] : 1;
            const r = s[i] - y[i];
            gh[2 * i] = wi * (r > delta ? delta : r < -delta ? -delta : r);
            gh[2 * i + 1] = wi;
          }
        },
      };
    case 'pseudo_huber':
      return {
        name,
        init: median,
        transform: identity,
        renewWeights: null,
        constantHessian: false,
        gradients(y, s, w, gh) {
          for (let i = 0; i < y.length; i++) {
            const wi = w ? w[i] : 1;
            const r = s[i] - y[i];
            const q = 1 + (r / delta) * (r / delta);
            const sq = Math.sqrt(q);
            gh[2 * i] = (wi * r) / sq;
            gh[2 * i + 1] = wi / (q * sq);
          }
        },
      };
    case 'binary':
      return {
        name,
        init(y, w) {
          const p = Math.min(Math.max(mean(y, w), 1e-12), 1 - 1e-12);
          return Math.log(p / (1 - p));
        },
        transform: (x) => 1 / (1 + Math.exp(-x)),
        renewWeights: null,
        constantHessian: false,
        gradients(y, s, w, gh) {
          for (let i = 0; i < y.length; i++) {
            const wi = w ? w[i] : 1;
            const p = 1 / (1 + Math.exp(-s[i]));
            gh[2 * i] = wi * (p - y[i]);
            gh[2 * i + 1] = Math.max(wi * p * (1 - p), 1e-16);
          }
        },
      };
  }
}
