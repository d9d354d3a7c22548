/**
 * @file The shared training state and the one job every thread runs. All large arrays live in
 * SharedArrayBuffers (bins in both layouts, row partition, gradients, results) while each
 * thread keeps a private histogram pool for its own features (private memory fills and copies
 * faster); a job is described in a small shared Int32Array / Float64Array, and each thread
 * handles its own contiguous range of features: build the smaller child's histogram, derive
 * the sibling by subtraction, and find the best split of both leaves on those features. The
 * main thread merges the per-thread results (ties to the lower feature, so results are
 * thread-independent).
 * Two histogram forms: (g, h) pairs per bin, or for constant-hessian objectives one packed
 * double per bin (quantized gradient sum and row count, exact integer sums; see histogram.ts).
 *
 * @example
 *   const st = createEngine(init, t);    // same call on the main thread (t = 0) and in workers
 *   runJob(st, threadIndex);             // after the main thread has written a job
 */
import { buildHistograms, buildPackedHistograms, subtractHistograms } from './histogram.ts';
import { findBestSplit, findNumericPacked, newSplit, resetSplit, type LeafSums, type SplitConfig, type SplitInfo } from './split.ts';

/** ctrl layout (Int32). */
export const C_SEQ = 0;
export const C_TYPE = 1;
export const C_SLOT_A = 2;
export const C_SLOT_B = 3;
export const C_START = 4;
export const C_COUNT = 5;
export const C_DIRECT = 6;
export const C_FIND_A = 7;
export const C_FIND_B = 8;
/** Set by a worker whose job threw. */
export const C_ERROR = 9;
/** 1: split finding of leaf A / B looks only at the features set in nodeMask (random forests). */
export const C_NODE_MASK = 10;
export const C_DONE = 16; // + thread index
export const CTRL_SIZE = 16 + 64;

export const JOB_ROOT = 1;
export const JOB_PAIR = 2;
export const JOB_EXIT = 9;

/** Per-thread, per-leaf result record (Float64). */
const R_GAIN = 0;
const R_FEATURE = 1;
const R_THRESHOLD = 2;
const R_DEFAULT_LEFT = 3;
const R_CAT = 4;
const R_LG = 5;
const R_LH = 6;
const R_LC = 7;
const R_RG = 8;
const R_RH = 9;
const R_RC = 10;
/** Packed mode: the packed total of leaf A as summed from this thread's first feature (NaN if none). */
const R_TOTAL = 11;
export const RES_SIZE = 12;

/** Everything a thread needs; plain data so it can be posted to a worker. */
export interface EngineInit {
  n: number;
  F: number;
  threads: number;
  bins: Uint8Array;
  /** The same bins row-major (row r at r * F), read for small leaves; null if not kept. */
  rowBins: Uint8Array | null;
  numBins: Int32Array;
  histOff: Int32Array;
  isCat: Uint8Array;
  /** Histogram slots per thread (one per leaf that may still be split). */
  slots: number;
  idx: Int32Array;
  og: Float64Array;
  /** Gradients by row (interleaved g, h), read directly by the root pass without bagging. */
  gh: Float64Array;
  /**
   * Packed mode (constant hessian): one double per row, q * packM + 1 with q the quantized
   * gradient; gp holds them by row, og in leaf order; histograms hold one double per bin.
   */
  packed: boolean;
  packM: number;
  gp: Float64Array;
  featMask: Uint8Array;
  /**
   * Per-node feature subsets (random forests), read only when ctrl[C_NODE_MASK] is 1: feature f
   * may split leaf A (B) of the job when nodeMask[f] (nodeMask[F + f]) is 1. Histograms are still
   * built for every featMask feature, so the larger child can be derived by subtraction.
   */
  nodeMask: Uint8Array;
  ctrl: Int32Array;
  jobF: Float64Array;
  res: Float64Array;
  catRes: Int32Array;
  /** Feature range of thread t: [fBegin[t], fBegin[t + 1]). */
  fBegin: Int32Array;
  cfg: SplitConfig;
}

export interface Engine extends EngineInit {
  /** This thread's histogram pool (private memory: only this thread touches its features). */
  hist: Float64Array;
  /** Doubles per slot in this thread's pool. */
  slotSize: number;
  /** histOff[f] - offBase is feature f's offset inside a slot of this pool. */
  offBase: number;
  split: SplitInfo;
  sortBuf: Float64Array;
  orderBuf: Int32Array;
  feats: Int32Array;
  /** Scratch for the row-major histogram pass (per-feature histogram offsets). */
  offs: Int32Array;
  /** Packed mode: totals of leaves A and B of the current job. */
  packTotals: Float64Array;
  /** Packed mode: one feature's histogram decoded to (g, h) pairs. */
  decoded: Float64Array;
}

/** The per-thread view of the shared state, with thread t's private histogram pool. */
export function createEngine(init: EngineInit, t: number): Engine {
  const f0 = init.fBegin[t];
  const f1 = init.fBegin[t + 1];
  const offBase = f1 > f0 ? init.histOff[f0] : 0;
  const stride = init.packed ? 1 : 2;
  const slotSize = f1 > f0 ? init.histOff[f1 - 1] + stride * init.numBins[f1 - 1] - offBase : 0;
  const histOff = Int32Array.from(init.histOff, (o) => o - offBase);
  return {
    ...init,
    histOff,
    hist: new Float64Array(Math.max(1, slotSize * init.slots)),
    slotSize,
    offBase,
    split: newSplit(),
    sortBuf: new Float64Array(256),
    orderBuf: new Int32Array(256),
    feats: new Int32Array(init.F),
    offs: new Int32Array(init.F),
    decoded: new Float64Array(512),
    packTotals: new Float64Array(2),
  };
}

/** Allocates the shared buffers for n rows and the given bins (histograms are per thread). */
export function allocateEngine(opts: {
  n: number;
  bins: Uint8Array;
  rowBins: Uint8Array | null;
  numBins: Int32Array;
  isCat: Uint8Array;
  slots: number;
  threads: number;
  cfg: SplitConfig;
  /** Row count bound for packing (power of two > n), or 0 for unpacked (g, h) histograms. */
  packM: number;
}): EngineInit {
  const { n, bins, rowBins, numBins, isCat, slots, threads, cfg, packM } = opts;
  const stride = packM > 0 ? 1 : 2;
  const F = numBins.length;
  const histOff = new Int32Array(F);
  let total = 0;
  for (let f = 0; f < F; f++) {
    histOff[f] = stride * total;
    total += numBins[f];
  }
  // Balance feature ranges by work: histogram passes cost the same per feature whatever its
  // bins, split finding and subtraction cost per bin. At 244k rows (bench/gbdt-fold.ts, one
  // thread) a feature's histograms cost about as much as 1,400 bins' split work: n / 175 bins.
  const perFeature = n / 175;
  const fBegin = new Int32Array(threads + 1);
  const work = total + F * perFeature;
  let acc = 0;
  let t = 1;
  for (let f = 0; f < F && t < threads; f++) {
    acc += numBins[f] + perFeature;
    if (acc >= (work * t) / threads) fBegin[t++] = f + 1;
  }
  for (; t <= threads; t++) fBegin[t] = F;
  const sab = (bytes: number) => new SharedArrayBuffer(Math.max(8, bytes));
  return {
    n,
    F,
    threads,
    bins,
    rowBins,
    numBins: Int32Array.from(numBins),
    histOff: Int32Array.from(histOff),
    isCat: Uint8Array.from(isCat),
    slots,
    idx: new Int32Array(sab(4 * n)),
    og: new Float64Array(sab(packM > 0 ? 8 : 16 * n)),
    gh: new Float64Array(sab(16 * n)),
    packed: packM > 0,
    packM,
    gp: new Float64Array(sab(packM > 0 ? 8 * n : 8)),
    featMask: new Uint8Array(sab(F)),
    nodeMask: new Uint8Array(sab(2 * F)),
    ctrl: new Int32Array(sab(4 * CTRL_SIZE)),
    jobF: new Float64Array(sab(8 * 8)),
    res: new Float64Array(sab(8 * RES_SIZE * 2 * threads)),
    catRes: new Int32Array(sab(4 * 8 * 2 * threads)),
    fBegin,
    cfg,
  };
}

function writeResult(st: Engine, t: number, which: number): void {
  const s = st.split;
  const o = (t * 2 + which) * RES_SIZE;
  const r = st.res;
  r[o + R_GAIN] = s.gain;
  r[o + R_FEATURE] = s.feature;
  r[o + R_THRESHOLD] = s.threshold;
  r[o + R_DEFAULT_LEFT] = s.defaultLeft ? 1 : 0;
  r[o + R_CAT] = s.categorical ? 1 : 0;
  r[o + R_LG] = s.lg;
  r[o + R_LH] = s.lh;
  r[o + R_LC] = s.lc;
  r[o + R_RG] = s.rg;
  r[o + R_RH] = s.rh;
  r[o + R_RC] = s.rc;
  st.catRes.set(s.catBins, (t * 2 + which) * 8);
}

function findForLeaf(st: Engine, nf: number, slot: number, leaf: LeafSums, packedTotal: number, t: number, which: number, gScale: number, hConst: number): void {
  resetSplit(st.split);
  const base = slot * st.slotSize;
  const M = st.packM;
  const dec = st.decoded;
  const mask = st.ctrl[C_NODE_MASK] === 1 ? which * st.F : -1;
  for (let j = 0; j < nf; j++) {
    const f = st.feats[j];
    if (mask >= 0 && st.nodeMask[mask + f] === 0) continue;
    const nb = st.numBins[f];
    if (st.packed && st.isCat[f] === 0) {
      findNumericPacked(st.hist, base + st.histOff[f], f, nb, leaf, packedTotal, M, gScale, hConst, st.cfg, st.split);
    } else if (st.packed) {
      const o = base + st.histOff[f];
      for (let b = 0; b < nb; b++) {
        const v = st.hist[o + b];
        const q = Math.floor(v / M);
        const c = v - q * M;
        dec[2 * b] = q * gScale;
        dec[2 * b + 1] = c * hConst;
      }
      findBestSplit(dec, 0, f, 0, nb, st.isCat[f] === 1, leaf, st.cfg, st.split, st.sortBuf, st.orderBuf);
    } else findBestSplit(st.hist, base, f, st.histOff[f], nb, st.isCat[f] === 1, leaf, st.cfg, st.split, st.sortBuf, st.orderBuf);
  }
  writeResult(st, t, which);
}

/** Leaf sums of job leaf `which` (packed totals are decoded exactly). */
function jobLeaf(st: Engine, which: number): LeafSums {
  const jf = st.jobF;
  const o = 3 * which;
  if (!st.packed) return { g: jf[o], h: jf[o + 1], count: jf[o + 2] };
  const v = st.packTotals[which];
  const q = Math.floor(v / st.packM);
  const c = v - q * st.packM;
  return { g: q * jf[6], h: c * jf[7], count: c };
}

/** Runs the current job for thread t's features. */
export function runJob(st: Engine, t: number): void {
  const c = st.ctrl;
  const type = c[C_TYPE];
  let nf = 0;
  for (let f = st.fBegin[t]; f < st.fBegin[t + 1]; f++) if (st.featMask[f]) st.feats[nf++] = f;
  const feats = st.feats.subarray(0, nf);
  const slotA = c[C_SLOT_A];
  const baseA = slotA * st.slotSize;
  const direct = c[C_DIRECT] === 1;
  if (st.packed) {
    buildPackedHistograms(st.bins, st.rowBins, st.n, st.F, feats, st.histOff, st.numBins, st.hist, baseA, st.idx, c[C_START], c[C_COUNT], st.gp, st.offs);
    // The leaf's packed total is exact, so any feature's histogram gives it (the same on every thread).
    let total = NaN;
    if (nf > 0) {
      total = 0;
      const o = baseA + st.histOff[feats[0]];
      for (let b = 0; b < st.numBins[feats[0]]; b++) total += st.hist[o + b];
    }
    st.res[t * 2 * RES_SIZE + R_TOTAL] = total;
    if (nf === 0) return;
    const jf = st.jobF;
    // PAIR: jobF[0] holds the parent's total on entry; leaf A (small) and B (large) totals follow.
    if (type === JOB_PAIR) {
      st.packTotals[0] = total;
      st.packTotals[1] = jf[0] - total;
    } else {
      st.packTotals[0] = total;
      st.packTotals[1] = 0;
    }
  } else buildHistograms(st.bins, st.rowBins, st.n, st.F, feats, st.histOff, st.numBins, st.hist, baseA, st.idx, c[C_START], c[C_COUNT], direct ? st.gh : st.og, st.offs);
  const gScale = st.jobF[6];
  const hConst = st.jobF[7];
  if (type === JOB_PAIR) {
    const slotB = c[C_SLOT_B];
    subtractHistograms(st.hist, slotB * st.slotSize, baseA, feats, st.histOff, st.numBins, st.packed ? 1 : 2);
    if (c[C_FIND_A]) findForLeaf(st, nf, slotA, jobLeaf(st, 0), st.packed ? st.packTotals[0] : 0, t, 0, gScale, hConst);
    if (c[C_FIND_B]) findForLeaf(st, nf, slotB, jobLeaf(st, 1), st.packed ? st.packTotals[1] : 0, t, 1, gScale, hConst);
  } else if (c[C_FIND_A]) {
    findForLeaf(st, nf, slotA, jobLeaf(st, 0), st.packed ? st.packTotals[0] : 0, t, 0, gScale, hConst);
  }
}

/** Packed mode: the packed total of the last job's leaf A, from the first thread that had features. */
export function jobPackedTotal(st: EngineInit): number {
  for (let t = 0; t < st.threads; t++) {
    const v = st.res[t * 2 * RES_SIZE + R_TOTAL];
    if (!Number.isNaN(v)) return v;
  }
  return NaN;
}

/** Merges the per-thread results for leaf `which` into `out` (ties: lower thread = lower feature). */
export function mergeResults(st: EngineInit, which: number, out: SplitInfo): void {
  resetSplit(out);
  for (let t = 0; t < st.threads; t++) {
    const o = (t * 2 + which) * RES_SIZE;
    const r = st.res;
    if (!(r[o + R_GAIN] > out.gain)) continue;
    out.gain = r[o + R_GAIN];
    out.feature = r[o + R_FEATURE];
    out.threshold = r[o + R_THRESHOLD];
    out.defaultLeft = r[o + R_DEFAULT_LEFT] === 1;
    out.categorical = r[o + R_CAT] === 1;
    out.lg = r[o + R_LG];
    out.lh = r[o + R_LH];
    out.lc = r[o + R_LC];
    out.rg = r[o + R_RG];
    out.rh = r[o + R_RH];
    out.rc = r[o + R_RC];
    out.catBins.set(st.catRes.subarray((t * 2 + which) * 8, (t * 2 + which) * 8 + 8));
  }
}
