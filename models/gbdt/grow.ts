/**
 * @file Leaf-wise (best-first) growth of one tree on the binned training set. The rows of each
 * leaf are a contiguous range of the shared index array, partitioned in place (stably) at
 * every split; each split runs one thread-pool job that builds the smaller child's histogram
 * (from ordered gradients, or packed gradients read by row), gets the larger one by
 * subtraction from the parent's slot, and finds
 * both children's best splits. The tree comes back in bin space (for updating training and
 * validation scores) and is converted to raw values for the saved forest.
 *
 * @example
 *   const tree = grower.grow(rowCount, direct, gScale, 1); // after writing gradients into engine.gh (and gp)
 */
import { C_COUNT, C_DIRECT, C_FIND_A, C_FIND_B, C_NODE_MASK, C_SLOT_A, C_SLOT_B, C_START, C_TYPE, JOB_PAIR, JOB_ROOT, jobPackedTotal, mergeResults, type EngineInit } from './engine.ts';
import { leafOutput, newSplit, type SplitInfo } from './split.ts';
import type { ThreadPool } from './pool.ts';

export interface GrowConfig {
  numLeaves: number;
  maxDepth: number;
  minDataInLeaf: number;
  minSumHessian: number;
  lambdaL1: number;
  lambdaL2: number;
  /**
   * Random forests: fills one leaf's feature subset (mask[f] = 1: may split on f) just before
   * that leaf's split is searched. Absent (gbdt): every feature of the tree's featMask.
   */
  nodeFeatures?: (mask: Uint8Array) => void;
}

/** A tree in bin space. Children: >= 0 node index, < 0 leaf ~index. */
export interface BinTree {
  feature: number[];
  thresholdBin: number[];
  defaultLeft: boolean[];
  /** Categorical nodes: bitset over bins (8 words); null for numeric nodes. */
  catBins: (Int32Array | null)[];
  left: number[];
  right: number[];
  gain: number[];
  /** Per leaf: Newton value (unshrunk), row range in the index array. */
  leafValue: number[];
  leafStart: number[];
  leafCount: number[];
}

interface Leaf {
  start: number;
  count: number;
  depth: number;
  slot: number;
  g: number;
  h: number;
  /** Packed mode: exact packed total of the leaf's rows. */
  p: number;
  split: SplitInfo;
  /** Node whose child pointer refers to this leaf (-1 for the root) and which side. */
  parent: number;
  isLeft: boolean;
}

export class Grower {
  /** Milliseconds spent in pool jobs and in the main thread's own partition / gather work. */
  readonly timing = { jobs: 0, partition: 0, jobCount: 0, rows: 0 };
  private readonly tmp: Int32Array;
  /** Partition table of the split being applied: goLeft[bin] is 1 for rows going left. */
  private readonly goLeft = new Uint8Array(256);
  private readonly freeSlots: number[] = [];

  constructor(
    private readonly st: EngineInit,
    private readonly pool: ThreadPool,
    private readonly cfg: GrowConfig,
    private readonly slots: number,
    private readonly missingBin: Int32Array,
  ) {
    this.tmp = new Int32Array(st.n);
  }

  private canSplit(count: number, depth: number): boolean {
    const c = this.cfg;
    return count >= 2 * c.minDataInLeaf && (c.maxDepth <= 0 || depth < c.maxDepth);
  }

  /**
   * Grows a tree on rows idx[0..rowCount). With `direct`, the rows are 0..n-1 in order and the
   * root histogram reads gradients from engine.gh directly.
   */
  grow(rowCount: number, direct: boolean, gScale = 0, hConst = 0): BinTree {
    const st = this.st;
    const { idx, gh, og, gp, ctrl, jobF } = st;
    const packed = st.packed;
    jobF[6] = gScale;
    jobF[7] = hConst;
    const cfg = this.cfg;
    const F = st.F;
    const drawFeatures = cfg.nodeFeatures;
    ctrl[C_NODE_MASK] = drawFeatures ? 1 : 0;
    this.freeSlots.length = 0;
    for (let s = this.slots - 1; s >= 0; s--) this.freeSlots.push(s);
    let G = 0;
    let H = 0;
    let P = 0;
    if (direct) {
      for (let i = 0; i < rowCount; i++) {
        G += gh[2 * i];
        H += gh[2 * i + 1];
      }
      if (packed) for (let i = 0; i < rowCount; i++) P += gp[i];
    } else if (packed) {
      for (let k = 0; k < rowCount; k++) {
        const i = idx[k];
        P += gp[i];
        G += gh[2 * i];
        H += gh[2 * i + 1];
      }
    } else {
      for (let k = 0; k < rowCount; k++) {
        const i = idx[k];
        const g = gh[2 * i];
        const h = gh[2 * i + 1];
        og[2 * k] = g;
        og[2 * k + 1] = h;
        G += g;
        H += h;
      }
    }
    const tree: BinTree = { feature: [], thresholdBin: [], defaultLeft: [], catBins: [], left: [], right: [], gain: [], leafValue: [], leafStart: [], leafCount: [] };
    const root: Leaf = { start: 0, count: rowCount, depth: 0, slot: -1, g: G, h: H, p: P, split: newSplit(), parent: -1, isLeft: false };
    const leaves: Leaf[] = [root];
    if (this.canSplit(rowCount, 0) && cfg.numLeaves > 1) {
      root.slot = this.freeSlots.pop()!;
      ctrl[C_TYPE] = JOB_ROOT;
      ctrl[C_SLOT_A] = root.slot;
      ctrl[C_START] = 0;
      ctrl[C_COUNT] = rowCount;
      ctrl[C_DIRECT] = direct ? 1 : 0;
      ctrl[C_FIND_A] = 1;
      ctrl[C_FIND_B] = 0;
      jobF[0] = packed ? P : G;
      jobF[1] = H;
      jobF[2] = rowCount;
      drawFeatures?.(st.nodeMask.subarray(0, F));
      const tj = performance.now();
      this.pool.run();
      this.timing.jobs += performance.now() - tj;
      this.timing.rows += rowCount;
      mergeResults(st, 0, root.split);
    }
    const bins = st.bins;
    const n = st.n;
    while (leaves.length < cfg.numLeaves) {
      let bi = -1;
      for (let i = 0; i < leaves.length; i++) if (leaves[i].split.gain > -Infinity && (bi < 0 || leaves[i].split.gain > leaves[bi].split.gain)) bi = i;
      if (bi < 0) break;
      const L = leaves[bi];
      const sp = L.split;
      // Record the node.
      const node = tree.feature.length;
      tree.feature.push(sp.feature);
      tree.thresholdBin.push(sp.threshold);
      tree.defaultLeft.push(sp.defaultLeft);
      tree.catBins.push(sp.categorical ? Int32Array.from(sp.catBins) : null);
      tree.gain.push(sp.gain);
      tree.left.push(~bi);
      tree.right.push(~leaves.length);
      if (L.parent >= 0) (L.isLeft ? tree.left : tree.right)[L.parent] = node;
      const tp = performance.now();
      // Partition rows [start, start + count) stably: left rows first.
      const col = bins.subarray(sp.feature * n, sp.feature * n + n);
      const s0 = L.start;
      const e0 = L.start + L.count;
      const goLeft = this.goLeft;
      sideTable(goLeft, sp.categorical ? sp.catBins : null, sp.threshold, sp.defaultLeft, this.missingBin[sp.feature]);
      const nl = partition(idx, s0, e0, col, null, goLeft, this.tmp);
      const nr = L.count - nl;
      const depth = L.depth + 1;
      const leftLeaf: Leaf = { start: s0, count: nl, depth, slot: -1, g: sp.lg, h: sp.lh, p: 0, split: L.split, parent: node, isLeft: true };
      const rightLeaf: Leaf = { start: s0 + nl, count: nr, depth, slot: -1, g: sp.rg, h: sp.rh, p: 0, split: newSplit(), parent: node, isLeft: false };
      const parentSlot = L.slot;
      leaves[bi] = leftLeaf;
      leaves.push(rightLeaf);
      leftLeaf.split = newSplit();
      const smallIsLeft = nl <= nr;
      const small = smallIsLeft ? leftLeaf : rightLeaf;
      const large = smallIsLeft ? rightLeaf : leftLeaf;
      const findSmall = this.canSplit(small.count, depth);
      const findLarge = this.canSplit(large.count, depth);
      if ((!findSmall && !findLarge) || leaves.length >= cfg.numLeaves) {
        this.freeSlots.push(parentSlot);
        continue;
      }
      // Ordered gradients of the smaller child.
      const ss = small.start;
      const sc = small.count;
      if (!packed) {
        for (let k = 0; k < sc; k++) {
          const i = idx[ss + k];
          og[2 * k] = gh[2 * i];
          og[2 * k + 1] = gh[2 * i + 1];
        }
      }
      const tj = performance.now();
      this.timing.partition += tj - tp;
      small.slot = this.freeSlots.pop()!;
      large.slot = parentSlot;
      ctrl[C_TYPE] = JOB_PAIR;
      ctrl[C_SLOT_A] = small.slot;
      ctrl[C_SLOT_B] = large.slot;
      ctrl[C_START] = ss;
      ctrl[C_COUNT] = sc;
      ctrl[C_DIRECT] = 0;
      ctrl[C_FIND_A] = findSmall ? 1 : 0;
      ctrl[C_FIND_B] = findLarge ? 1 : 0;
      // Packed: the job derives both children's totals from the parent's and its histograms.
      jobF[0] = packed ? L.p : small.g;
      jobF[1] = small.h;
      jobF[2] = small.count;
      jobF[3] = packed ? 0 : large.g;
      jobF[4] = large.h;
      jobF[5] = large.count;
      if (drawFeatures && findSmall) drawFeatures(st.nodeMask.subarray(0, F));
      if (drawFeatures && findLarge) drawFeatures(st.nodeMask.subarray(F, 2 * F));
      this.pool.run();
      this.timing.jobs += performance.now() - tj;
      this.timing.jobCount++;
      this.timing.rows += sc;
      if (packed) {
        small.p = jobPackedTotal(st);
        large.p = L.p - small.p;
      }
      if (findSmall) mergeResults(st, 0, small.split);
      if (findLarge) mergeResults(st, 1, large.split);
      if (!findSmall) this.freeSlots.push(small.slot);
      if (!findLarge) this.freeSlots.push(large.slot);
    }
    for (const leaf of leaves) {
      tree.leafValue.push(leafOutput(leaf.g, leaf.h, cfg.lambdaL1, cfg.lambdaL2));
      tree.leafStart.push(leaf.start);
      tree.leafCount.push(leaf.count);
    }
    return tree;
  }
}

/** goLeft[bin] = 1 for the bins a split sends left: a categorical bitset, else bins <= threshold plus missing by default. */
function sideTable(goLeft: Uint8Array, catBins: Int32Array | null, threshold: number, defaultLeft: boolean, missingBin: number): void {
  if (catBins) for (let b = 0; b < 256; b++) goLeft[b] = (catBins[b >> 5] >>> (b & 31)) & 1;
  else for (let b = 0; b < 256; b++) goLeft[b] = b === missingBin ? (defaultLeft ? 1 : 0) : b <= threshold ? 1 : 0;
}

/**
 * Stable partition of ord[s..e) by goLeft[col[row]] (row = rows ? rows[ord[k]] : ord[k]), left
 * first; returns the left count. Branch-free (a row's side is a coin flip to the branch
 * predictor): every entry is written at both sides' cursors and only its side's cursor advances.
 */
function partition(ord: Int32Array, s: number, e: number, col: Uint8Array, rows: Int32Array | null, goLeft: Uint8Array, tmp: Int32Array): number {
  let nl = 0;
  let nr = 0;
  for (let k = s; k < e; k++) {
    const i = ord[k];
    const l = goLeft[col[rows ? rows[i] : i]];
    ord[s + nl] = i;
    tmp[nr] = i;
    nl += l;
    nr += 1 - l;
  }
  // A plain loop: TypedArray.set on shared memory takes a slow path.
  for (let k = 0, d = s + nl; k < nr; k++) ord[d + k] = tmp[k];
  return nl;
}

/**
 * Leaf index of rows of a column-major bin matrix (n rows): of rows[k] into out[k], or of every
 * row (rows null). Node by node rather than row by row: each node partitions its rows (kept in
 * ascending order) by one column, so column reads stream and no step branches on the data.
 * Nodes are numbered in split order, so a node comes after its parent.
 */
export function binTreeLeaves(tree: BinTree, bins: Uint8Array, n: number, missingBin: Int32Array, rows: Int32Array | null, out: Int32Array): void {
  const count = rows ? rows.length : n;
  const nodes = tree.feature.length;
  if (nodes === 0) {
    out.fill(0, 0, count);
    return;
  }
  const ord = new Int32Array(count);
  const tmp = new Int32Array(count);
  for (let k = 0; k < count; k++) ord[k] = k;
  const start = new Int32Array(nodes);
  const end = new Int32Array(nodes);
  end[0] = count;
  const goLeft = new Uint8Array(256);
  for (let j = 0; j < nodes; j++) {
    const f = tree.feature[j];
    sideTable(goLeft, tree.catBins[j], tree.thresholdBin[j], tree.defaultLeft[j], missingBin[f]);
    const s = start[j];
    const e = end[j];
    const mid = s + partition(ord, s, e, bins.subarray(f * n, f * n + n), rows, goLeft, tmp);
    for (const [child, cs, ce] of [[tree.left[j], s, mid], [tree.right[j], mid, e]]) {
      if (child >= 0) {
        start[child] = cs;
        end[child] = ce;
      } else for (let k = cs; k < ce; k++) out[ord[k]] = ~child;
    }
  }
}
