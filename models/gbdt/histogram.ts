/**
 * @file Gradient histograms. A histogram holds, per feature and bin, the sum of gradients and
 * hessians (interleaved: [g0, h0, g1, h1, ...]); bin counts are recovered from hessians
 * (LightGBM's cnt_factor). Leaves are built from their row partition with ordered gradients
 * (the leaf's gradients copied contiguously in partition order); the larger child is parent
 * minus smaller. Two bin layouts, both kept: large leaves (dense rows) pass over the
 * column-major bins eight features per row pass, so the index and gradient loads are shared;
 * small leaves (scattered rows) pass over a row-major copy, several rows per feature step
 * (LightGBM's col-wise / row-wise modes, chosen per leaf by its row count).
 * buildPackedHistograms is the one-double-per-bin form for constant-hessian objectives.
 *
 * @example
 *   buildHistograms(bins, rowBins, n, F, feats, histOff, numBins, hist, base, idx, start, count, og, offs);
 *   subtractHistograms(hist, parentBase, childBase, feats, histOff, numBins, 2);
 */

/**
 * Leaves below n / ROWS_BELOW rows are built from the row-major bin copy when there is one:
 * their rows are scattered, so a column pass pays a cache miss per row and feature, while a
 * row's features share one or two cache lines. Fits at 244k x 217 (bench/gbdt-fold.ts) ran
 * equally fast with n / 4 to n / 16 and much slower with rows for the root too (n / 1).
 */
export const ROWS_BELOW = 8;

/**
 * Adds the rows of one leaf into the histograms of the given features (zeroed first).
 * Row k of the leaf is idx[start + k] with gradient og[2k], hessian og[2k + 1] (for the root
 * without bagging idx is the identity and og the gradients by row).
 * Features go eight (then four, then one) per pass over the rows; the bin matrix is addressed
 * with flat offsets (f * n + row), which V8 compiles to tighter loops than per-feature views.
 * Small leaves read `rowBins` instead, as buildPackedHistograms does.
 */
export function buildHistograms(
  bins: Uint8Array,
  rowBins: Uint8Array | null,
  n: number,
  F: number,
  features: Int32Array,
  histOff: Int32Array,
  numBins: Int32Array,
  hist: Float64Array,
  base: number,
  idx: Int32Array,
  start: number,
  count: number,
  og: Float64Array,
  offs: Int32Array,
): void {
  const nf = features.length;
  for (let j = 0; j < nf; j++) {
    const f = features[j];
    hist.fill(0, base + histOff[f], base + histOff[f] + 2 * numBins[f]);
  }
  if (rowBins && count * ROWS_BELOW < n) {
    for (let j = 0; j < nf; j++) offs[j] = base + histOff[features[j]];
    pairRows(rowBins, F, hist, idx, start, count, og, features, offs, nf);
    return;
  }
  const ho = (j: number) => base + histOff[features[j]];
  const co = (j: number) => features[j] * n;
  let j = 0;
  for (; j + 8 <= nf; j += 8) {
    hist8(bins, hist, idx, start, count, og, co(j), co(j + 1), co(j + 2), co(j + 3), co(j + 4), co(j + 5), co(j + 6), co(j + 7),
      ho(j), ho(j + 1), ho(j + 2), ho(j + 3), ho(j + 4), ho(j + 5), ho(j + 6), ho(j + 7));
  }
  for (; j + 4 <= nf; j += 4) hist4(bins, hist, idx, start, count, og, co(j), co(j + 1), co(j + 2), co(j + 3), ho(j), ho(j + 1), ho(j + 2), ho(j + 3));
  for (; j < nf; j++) hist1(bins, hist, idx, start, count, og, co(j), ho(j));
}

/** Row-major pass for (g, h) pairs: four rows per feature step (eight rows of g and h would not stay in registers). */
function pairRows(
  rb: Uint8Array,
  F: number,
  h: Float64Array,
  idx: Int32Array,
  start: number,
  count: number,
  og: Float64Array,
  feats: Int32Array,
  offs: Int32Array,
  nf: number,
): void {
  let k = 0;
  for (; k + 4 <= count; k += 4) {
    const r0 = idx[start + k] * F;
    const r1 = idx[start + k + 1] * F;
    const r2 = idx[start + k + 2] * F;
    const r3 = idx[start + k + 3] * F;
    const g0 = og[2 * k];
    const h0 = og[2 * k + 1];
    const g1 = og[2 * k + 2];
    const h1 = og[2 * k + 3];
    const g2 = og[2 * k + 4];
    const h2 = og[2 * k + 5];
    const g3 = og[2 * k + 6];
    const h3 = og[2 * k + 7];
    for (let j = 0; j < nf; j++) {
      const o = offs[j];
      const f = feats[j];
      let b = o + 2 * rb[r0 + f];
      h[b] += g0;
      h[b + 1] += h0;
      b = o + 2 * rb[r1 + f];
      h[b] += g1;
      h[b + 1] += h1;
      b = o + 2 * rb[r2 + f];
      h[b] += g2;
      h[b + 1] += h2;
      b = o + 2 * rb[r3 + f];
      h[b] += g3;
      h[b + 1] += h3;
    }
  }
  for (; k < count; k++) {
    const r = idx[start + k] * F;
    const g = og[2 * k];
    const hh = og[2 * k + 1];
    for (let j = 0; j < nf; j++) {
      const b = offs[j] + 2 * rb[r + feats[j]];
      h[b] += g;
      h[b + 1] += hh;
    }
  }
}

function hist8(
  bins: Uint8Array,
  h: Float64Array,
  idx: Int32Array,
  start: number,
  count: number,
  og: Float64Array,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  c4: number,
  c5: number,
  c6: number,
  c7: number,
  o0: number,
  o1: number,
  o2: number,
  o3: number,
  o4: number,
  o5: number,
  o6: number,
  o7: number,
): void {
  for (let k = 0; k < count; k++) {
    const i = idx[start + k];
    const g = og[2 * k];
    const hh = og[2 * k + 1];
    let b = o0 + 2 * bins[c0 + i];
    h[b] += g;
    h[b + 1] += hh;
    b = o1 + 2 * bins[c1 + i];
    h[b] += g;
    h[b + 1] += hh;
    b = o2 + 2 * bins[c2 + i];
    h[b] += g;
    h[b + 1] += hh;
    b = o3 + 2 * bins[c3 + i];
    h[b] += g;
    h[b + 1] += hh;
    b = o4 + 2 * bins[c4 + i];
    h[b] += g;
    h[b + 1] += hh;
    b = o5 + 2 * bins[c5 + i];
    h[b] += g;
    h[b + 1] += hh;
    b = o6 + 2 * bins[c6 + i];
    h[b] += g;
    h[b + 1] += hh;
    b = o7 + 2 * bins[c7 + i];
    h[b] += g;
    h[b + 1] += hh;
  }
}

function hist4(
  bins: Uint8Array,
  h: Float64Array,
  idx: Int32Array,
  start: number,
  count: number,
  og: Float64Array,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  o0: number,
  o1: number,
  o2: number,
  o3: number,
): void {
  for (let k = 0; k < count; k++) {
    const i = idx[start + k];
    const g = og[2 * k];
    const hh = og[2 * k + 1];
    let b = o0 + 2 * bins[c0 + i];
    h[b] += g;
    h[b + 1] += hh;
    b = o1 + 2 * bins[c1 + i];
    h[b] += g;
    h[b + 1] += hh;
    b = o2 + 2 * bins[c2 + i];
    h[b] += g;
    h[b + 1] += hh;
    b = o3 + 2 * bins[c3 + i];
    h[b] += g;
    h[b + 1] += hh;
  }
}

function hist1(bins: Uint8Array, h: Float64Array, idx: Int32Array, start: number, count: number, og: Float64Array, c: number, o: number): void {
  for (let k = 0; k < count; k++) {
    const b = o + 2 * bins[c + idx[start + k]];
    h[b] += og[2 * k];
    h[b + 1] += og[2 * k + 1];
  }
}

/**
 * Packed variant for objectives with a constant hessian: each row carries one double
 * q * M + 1 (q its quantized gradient, M a power of two above the row count), so one add per
 * row and feature accumulates both the gradient sum and the row count, exactly (integers
 * below 2^53), whatever the order of the rows. Values are read by row (gp[row]): leaf rows
 * are in ascending order, so no ordered copy is needed. Large leaves read the column-major
 * `bins`, small ones `rowBins` (row r at r * F; null: columns only); `offs` is scratch (>= nf).
 */
export function buildPackedHistograms(
  bins: Uint8Array,
  rowBins: Uint8Array | null,
  n: number,
  F: number,
  features: Int32Array,
  histOff: Int32Array,
  numBins: Int32Array,
  hist: Float64Array,
  base: number,
  idx: Int32Array,
  start: number,
  count: number,
  gp: Float64Array,
  offs: Int32Array,
): void {
  const nf = features.length;
  for (let j = 0; j < nf; j++) {
    const f = features[j];
    hist.fill(0, base + histOff[f], base + histOff[f] + numBins[f]);
  }
  if (rowBins && count * ROWS_BELOW < n) {
    for (let j = 0; j < nf; j++) offs[j] = base + histOff[features[j]];
    packedRows(rowBins, F, hist, idx, start, count, gp, features, offs, nf);
    return;
  }
  const ho = (j: number) => base + histOff[features[j]];
  const co = (j: number) => features[j] * n;
  let j = 0;
  for (; j + 8 <= nf; j += 8) {
    packed8(bins, hist, idx, start, count, gp, co(j), co(j + 1), co(j + 2), co(j + 3), co(j + 4), co(j + 5), co(j + 6), co(j + 7),
      ho(j), ho(j + 1), ho(j + 2), ho(j + 3), ho(j + 4), ho(j + 5), ho(j + 6), ho(j + 7));
  }
  for (; j < nf; j++) {
    const c = co(j);
    const o = ho(j);
    for (let k = 0; k < count; k++) {
      const i = idx[start + k];
      hist[o + bins[c + i]] += gp[i];
    }
  }
}

/**
 * Row-major pass: eight rows at a time, each feature's offsets loaded once for the eight
 * (about 1.8x one row at a time; the eight rows' cache lines are fetched in parallel).
 */
function packedRows(
  rb: Uint8Array,
  F: number,
  h: Float64Array,
  idx: Int32Array,
  start: number,
  count: number,
  gp: Float64Array,
  feats: Int32Array,
  offs: Int32Array,
  nf: number,
): void {
  let k = start;
  const end = start + count;
  for (; k + 8 <= end; k += 8) {
    const i0 = idx[k];
    const i1 = idx[k + 1];
    const i2 = idx[k + 2];
    const i3 = idx[k + 3];
    const i4 = idx[k + 4];
    const i5 = idx[k + 5];
    const i6 = idx[k + 6];
    const i7 = idx[k + 7];
    const v0 = gp[i0];
    const v1 = gp[i1];
    const v2 = gp[i2];
    const v3 = gp[i3];
    const v4 = gp[i4];
    const v5 = gp[i5];
    const v6 = gp[i6];
    const v7 = gp[i7];
    const r0 = i0 * F;
    const r1 = i1 * F;
    const r2 = i2 * F;
    const r3 = i3 * F;
    const r4 = i4 * F;
    const r5 = i5 * F;
    const r6 = i6 * F;
    const r7 = i7 * F;
    for (let j = 0; j < nf; j++) {
      const o = offs[j];
      const f = feats[j];
      h[o + rb[r0 + f]] += v0;
      h[o + rb[r1 + f]] += v1;
      h[o + rb[r2 + f]] += v2;
      h[o + rb[r3 + f]] += v3;
      h[o + rb[r4 + f]] += v4;
      h[o + rb[r5 + f]] += v5;
      h[o + rb[r6 + f]] += v6;
      h[o + rb[r7 + f]] += v7;
    }
  }
  for (; k < end; k++) {
    const i = idx[k];
    const v = gp[i];
    const r = i * F;
    for (let j = 0; j < nf; j++) h[offs[j] + rb[r + feats[j]]] += v;
  }
}

function packed8(
  bins: Uint8Array,
  h: Float64Array,
  idx: Int32Array,
  start: number,
  count: number,
  gp: Float64Array,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  c4: number,
  c5: number,
  c6: number,
  c7: number,
  o0: number,
  o1: number,
  o2: number,
  o3: number,
  o4: number,
  o5: number,
  o6: number,
  o7: number,
): void {
  for (let k = 0; k < count; k++) {
    const i = idx[start + k];
    const v = gp[i];
    h[o0 + bins[c0 + i]] += v;
    h[o1 + bins[c1 + i]] += v;
    h[o2 + bins[c2 + i]] += v;
    h[o3 + bins[c3 + i]] += v;
    h[o4 + bins[c4 + i]] += v;
    h[o5 + bins[c5 + i]] += v;
    h[o6 + bins[c6 + i]] += v;
    h[o7 + bins[c7 + i]] += v;
  }
}

/** hist[parentBase..] -= hist[childBase..] for the given features: the parent slot becomes the sibling. */
export function subtractHistograms(
  hist: Float64Array,
  parentBase: number,
  childBase: number,
  features: ArrayLike<number>,
  histOff: Int32Array,
  numBins: Int32Array,
  stride: number,
): void {
  for (let j = 0; j < features.length; j++) {
    const f = features[j];
    const p = parentBase + histOff[f];
    const c = childBase + histOff[f];
    const len = stride * numBins[f];
    for (let k = 0; k < len; k++) hist[p + k] -= hist[c + k];
  }
}
