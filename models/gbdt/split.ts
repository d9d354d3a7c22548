/**
 * @file Split finding on histograms. Numeric features: a left-to-right scan over bins, twice
 * when the leaf has missing values (missing rows sent right, then left) so the default
 * direction is learned. Categorical features (LightGBM): one-vs-rest when there are few
 * categories, else categories ordered by gradient / (hessian + cat_smooth) and scanned from both
 * ends, with cat_l2, min_data_per_group and max_cat_threshold. Ties keep the earlier candidate,
 * so the result does not depend on how features are split between threads.
 *
 * @example
 *   const best = newSplit();
 *   findBestSplit(hist, base, f, histOff[f], numBins[f], isCat[f] === 1, leaf, cfg, best, sortBuf, orderBuf);
 */

export interface SplitConfig {
  lambdaL1: number;
  lambdaL2: number;
  minDataInLeaf: number;
  minSumHessian: number;
  minGainToSplit: number;
  catSmooth: number;
  catL2: number;
  minDataPerGroup: number;
  maxCatThreshold: number;
  maxCatToOnehot: number;
}

export interface LeafSums {
  g: number;
  h: number;
  count: number;
}

/** The best split found so far for one leaf. `gain` is -Infinity when there is none. */
export interface SplitInfo {
  gain: number;
  feature: number;
  /** Numeric: bins <= threshold go left. */
  threshold: number;
  defaultLeft: boolean;
  categorical: boolean;
  /** Categorical: bitset over bins (8 words) of the bins going left. */
  catBins: Int32Array;
  lg: number;
  lh: number;
  lc: number;
  rg: number;
  rh: number;
  rc: number;
}

export function newSplit(): SplitInfo {
  return { gain: -Infinity, feature: -1, threshold: 0, defaultLeft: false, categorical: false, catBins: new Int32Array(8), lg: 0, lh: 0, lc: 0, rg: 0, rh: 0, rc: 0 };
}

export function resetSplit(s: SplitInfo): void {
  s.gain = -Infinity;
  s.feature = -1;
  s.threshold = 0;
  s.defaultLeft = false;
  s.categorical = false;
  s.catBins.fill(0);
  s.lg = s.lh = s.lc = s.rg = s.rh = s.rc = 0;
}

function thresholdL1(g: number, l1: number): number {
  if (l1 === 0) return g;
  return g > l1 ? g - l1 : g < -l1 ? g + l1 : 0;
}

/** Loss reduction term of a leaf with sums (g, h): T(g)^2 / (h + l2). */
export function leafGain(g: number, h: number, l1: number, l2: number): number {
  const t = thresholdL1(g, l1);
  return (t * t) / (h + l2);
}

/** Optimal (unshrunk) leaf value: -T(g) / (h + l2). */
export function leafOutput(g: number, h: number, l1: number, l2: number): number {
  const d = h + l2;
  return d > 0 ? -thresholdL1(g, l1) / d : 0;
}

/**
 * Updates `best` with the best split of feature f if it beats it (strictly).
 * `sortBuf` is scratch space (>= 256 entries) for the categorical ordering.
 */
export function findBestSplit(
  hist: Float64Array,
  base: number,
  f: number,
  off: number,
  nb: number,
  categorical: boolean,
  leaf: LeafSums,
  cfg: SplitConfig,
  best: SplitInfo,
  sortBuf: Float64Array,
  orderBuf: Int32Array,
): void {
  if (categorical) findCategorical(hist, base + off, f, nb, leaf, cfg, best, sortBuf, orderBuf);
  else findNumeric(hist, base + off, f, nb, leaf, cfg, best);
}

function findNumeric(h: Float64Array, o: number, f: number, nb: number, leaf: LeafSums, cfg: SplitConfig, best: SplitInfo): void {
  const { lambdaL1: l1, lambdaL2: l2, minDataInLeaf: minData, minSumHessian: minHess } = cfg;
  const G = leaf.g;
  const H = leaf.h;
  const N = leaf.count;
  if (!(H > 0)) return;
  const cntFactor = N / H;
  // round(lh * cntFactor) >= minData  <=>  lh >= (minData - 0.5) / cntFactor (same for the right side),
  // so both count and hessian constraints become one interval for lh.
  const minSide = Math.max(minHess, (minData - 0.5) / cntFactor);
  const maxLh = H - minSide;
  if (minSide > maxLh) return;
  const parent = leafGain(G, H, l1, l2);
  // Candidates must beat both the best so far and min_gain_to_split (gains compared exactly as
  // the thread merge compares them, so the result does not depend on the thread count).
  const floor = Math.max(best.gain, cfg.minGainToSplit);
  const mi = nb - 1;
  const missG = h[o + 2 * mi];
  const missH = h[o + 2 * mi + 1];
  const hasMissing = Math.round(missH * cntFactor) > 0;
  let bestSum = floor;
  let bestT = -1;
  let bestPass = 0;
  let bestLg = 0;
  let bestLh = 0;
  // Scan 1: missing rows go right. Scan 2 (only with missing rows): missing rows go left.
  for (let pass = 0; pass < (hasMissing ? 2 : 1); pass++) {
    let lg = pass === 0 ? 0 : missG;
    let lh = pass === 0 ? 0 : missH;
    const last = pass === 0 ? mi - 1 : mi - 2;
    for (let t = 0; t <= last; t++) {
      const bh = h[o + 2 * t + 1];
      // An empty bin leaves the sums unchanged: its candidate cannot beat the previous one.
      if (bh === 0 && t > 0) continue;
      lg += h[o + 2 * t];
      lh += bh;
      if (lh < minSide) continue;
      if (lh > maxLh) break;
      const rg = G - lg;
      let s: number;
      if (l1 === 0) {
        // Division-free prefilter: lg^2/b + rg^2/d > target  <=>  lg^2 d + rg^2 b > target b d (b, d > 0),
        // with a little slack; survivors are confirmed with the exact gain below.
        const b = lh + l2;
        const d = H - lh + l2;
        if (lg * lg * d + rg * rg * b < (bestSum + parent) * b * d * (1 - 1e-9)) continue;
        s = (lg * lg) / b + (rg * rg) / d;
      } else s = leafGain(lg, lh, l1, l2) + leafGain(rg, H - lh, l1, l2);
      if (s - parent > bestSum) {
        bestSum = s - parent;
        bestT = t;
        bestPass = pass;
        bestLg = lg;
        bestLh = lh;
      }
    }
  }
  if (bestT < 0) return;
  const lc = Math.round(bestLh * cntFactor);
  best.gain = bestSum;
  best.feature = f;
  best.threshold = bestT;
  best.categorical = false;
  best.defaultLeft = hasMissing ? bestPass === 1 : lc >= N - lc;
  best.lg = bestLg;
  best.lh = bestLh;
  best.lc = lc;
  best.rg = G - bestLg;
  best.rh = H - bestLh;
  best.rc = N - lc;
}

function findCategorical(
  h: Float64Array,
  o: number,
  f: number,
  nb: number,
  leaf: LeafSums,
  cfg: SplitConfig,
  best: SplitInfo,
  sortKey: Float64Array,
  order: Int32Array,
): void {
  const { lambdaL1: l1, minDataInLeaf: minData, minSumHessian: minHess } = cfg;
  const G = leaf.g;
  const H = leaf.h;
  const N = leaf.count;
  const cntFactor = H > 0 ? N / H : 0;
  const minGain = cfg.minGainToSplit;
  const nValue = nb - 1; // the last bin (other / missing) always goes right
  let used = 0;
  for (let t = 0; t < nValue; t++) if (Math.round(h[o + 2 * t + 1] * cntFactor) > 0) used++;
  if (used <= cfg.maxCatToOnehot) {
    const l2 = cfg.lambdaL2;
    const parent = leafGain(G, H, l1, l2);
    for (let t = 0; t < nValue; t++) {
      const lg = h[o + 2 * t];
      const lh = h[o + 2 * t + 1];
      const lc = Math.round(lh * cntFactor);
      if (lc < minData || lh < minHess) continue;
      const rc = N - lc;
      const rh = H - lh;
      if (rc < minData || rh < minHess) continue;
      const rg = G - lg;
      const gain = leafGain(lg, lh, l1, l2) + leafGain(rg, rh, l1, l2) - parent;
      if (gain > best.gain && gain > minGain) {
        setCat(best, f, gain, lg, lh, lc, rg, rh, rc, G, H);
        best.catBins.fill(0);
        best.catBins[t >> 5] |= 1 << (t & 31);
      }
    }
    return;
  }
  const l2 = cfg.lambdaL2 + cfg.catL2;
  const parent = leafGain(G, H, l1, l2);
  let m = 0;
  for (let t = 0; t < nValue; t++) {
    const hh = h[o + 2 * t + 1];
    if (Math.round(hh * cntFactor) >= cfg.catSmooth && hh > 0) {
      order[m] = t;
      sortKey[t] = h[o + 2 * t] / (hh + cfg.catSmooth);
      m++;
    }
  }
  if (m < 2) return;
  // Insertion sort by ratio, ties by bin (m <= 256, deterministic).
  for (let i = 1; i < m; i++) {
    const t = order[i];
    const key = sortKey[t];
    let j = i - 1;
    while (j >= 0 && (sortKey[order[j]] > key || (sortKey[order[j]] === key && order[j] > t))) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = t;
  }
  const maxNum = Math.min(cfg.maxCatThreshold, (m + 1) >> 1);
  let bestDir = 0;
  let bestI = -1;
  let bestGain = best.gain;
  let blg = 0;
  let blh = 0;
  let blc = 0;
  for (let dir = 0; dir < 2; dir++) {
    let lg = 0;
    let lh = 0;
    let group = 0;
    for (let i = 0; i < m && i < maxNum; i++) {
      const t = dir === 0 ? order[i] : order[m - 1 - i];
      lg += h[o + 2 * t];
      lh += h[o + 2 * t + 1];
      group += Math.round(h[o + 2 * t + 1] * cntFactor);
      const lc = Math.round(lh * cntFactor);
      if (lc < minData || lh < minHess) continue;
      const rc = N - lc;
      const rh = H - lh;
      if (rc < minData || rh < minHess) break;
      if (group < cfg.minDataPerGroup) continue;
      group = 0;
      const gain = leafGain(lg, lh, l1, l2) + leafGain(G - lg, rh, l1, l2) - parent;
      if (gain > bestGain && gain > minGain) {
        bestGain = gain;
        bestDir = dir;
        bestI = i;
        blg = lg;
        blh = lh;
        blc = lc;
      }
    }
  }
  if (bestI < 0) return;
  setCat(best, f, bestGain, blg, blh, blc, G - blg, H - blh, N - blc, G, H);
  best.catBins.fill(0);
  for (let i = 0; i <= bestI; i++) {
    const t = bestDir === 0 ? order[i] : order[m - 1 - i];
    best.catBins[t >> 5] |= 1 << (t & 31);
  }
}

function setCat(best: SplitInfo, f: number, gain: number, lg: number, lh: number, lc: number, rg: number, rh: number, rc: number, _G: number, _H: number): void {
  best.gain = gain;
  best.feature = f;
  best.threshold = 0;
  best.categorical = true;
  best.defaultLeft = false;
  best.lg = lg;
  best.lh = lh;
  best.lc = lc;
  best.rg = rg;
  best.rh = rh;
  best.rc = rc;
}

/**
 * findNumeric on a packed histogram (one double per bin: q * M + count, see histogram.ts):
 * prefix sums stay packed and exact, and only candidates are decoded. Same candidates, same
 * order and same gains as findNumeric on the decoded histogram.
 */
export function findNumericPacked(
  h: Float64Array,
  o: number,
  f: number,
  nb: number,
  leaf: LeafSums,
  packedTotal: number,
  M: number,
  gScale: number,
  hConst: number,
  cfg: SplitConfig,
  best: SplitInfo,
): void {
  const { lambdaL1: l1, lambdaL2: l2, minDataInLeaf: minData, minSumHessian: minHess } = cfg;
  const G = leaf.g;
  const H = leaf.h;
  const N = leaf.count;
  if (!(H > 0) || !(hConst > 0)) return;
  // Count constraints are exact here: lc >= minData and lh = lc * hConst >= minHess.
  const minC = Math.max(minData, Math.ceil(minHess / hConst - 1e-9));
  const maxC = N - minC;
  if (minC > maxC) return;
  const parent = leafGain(G, H, l1, l2);
  const floor = Math.max(best.gain, cfg.minGainToSplit);
  const mi = nb - 1;
  const missV = h[o + mi];
  const missQ = Math.floor(missV / M);
  const missC = missV - missQ * M;
  const hasMissing = missC > 0;
  let bestSum = floor;
  let bestT = -1;
  let bestPass = 0;
  let bestV = 0;
  for (let pass = 0; pass < (hasMissing ? 2 : 1); pass++) {
    let lv = pass === 0 ? 0 : missV;
    const last = pass === 0 ? mi - 1 : mi - 2;
    for (let t = 0; t <= last; t++) {
      const bv = h[o + t];
      if (bv === 0 && t > 0) continue;
      lv += bv;
      const q = Math.floor(lv / M);
      const lc = lv - q * M;
      if (lc < minC) continue;
      if (lc > maxC) break;
      const lg = q * gScale;
      const lh = lc * hConst;
      const rg = G - lg;
      let s: number;
      if (l1 === 0) {
        const b = lh + l2;
        const d = H - lh + l2;
        if (lg * lg * d + rg * rg * b < (bestSum + parent) * b * d * (1 - 1e-9)) continue;
        s = (lg * lg) / b + (rg * rg) / d;
      } else s = leafGain(lg, lh, l1, l2) + leafGain(rg, H - lh, l1, l2);
      if (s - parent > bestSum) {
        bestSum = s - parent;
        bestT = t;
        bestPass = pass;
        bestV = lv;
      }
    }
  }
  if (bestT < 0) return;
  const q = Math.floor(bestV / M);
  const lc = bestV - q * M;
  const rv = packedTotal - bestV;
  const rq = Math.floor(rv / M);
  const rc = rv - rq * M;
  best.gain = bestSum;
  best.feature = f;
  best.threshold = bestT;
  best.categorical = false;
  best.defaultLeft = hasMissing ? bestPass === 1 : lc >= rc;
  best.lg = q * gScale;
  best.lh = lc * hConst;
  best.lc = lc;
  best.rg = G - best.lg;
  best.rh = H - best.lh;
  best.rc = rc;
}
