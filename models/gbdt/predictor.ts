/**
 * @file The fitted ensemble as flat typed arrays and its predictor. Node i of the forest has a
 * feature, a raw-value threshold (x <= threshold goes left) or a category bitset, a default
 * direction for missing values and two children (>= 0: node index inside the tree, < 0: leaf
 * ~child). Prediction walks rows in blocks so a block's values stay in cache across trees, and
 * numeric-only trees walk four rows in lockstep.
 *
 * @example
 *   const raw = predictRaw(forest, X); // Float64Array of raw scores (init + sum of leaves)
 */
import type { Matrix } from '../../core/matrix.ts';

export interface Forest {
  numFeatures: number;
  initScore: number;
  /** Per tree: first node and first leaf (length trees + 1). */
  treeNode: Int32Array;
  treeLeaf: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  /** bit 0: missing goes left; bit 1: categorical split. */
  flags: Uint8Array;
  /** Categorical nodes: bitset words over category codes at catWords[catStart[i] .. catStart[i] + catLen[i]). */
  catStart: Int32Array;
  catLen: Int32Array;
  catWords: Int32Array;
  leafValue: Float64Array;
}

export const FLAG_DEFAULT_LEFT = 1;
export const FLAG_CATEGORICAL = 2;

export function numTrees(f: Forest): number {
  return f.treeNode.length - 1;
}

/** One step down a numeric node: x <= threshold goes left, missing follows the default. */
function step(i: number, x: number, threshold: Float64Array, flags: Uint8Array, left: Int32Array, right: Int32Array): number {
  if (x <= threshold[i]) return left[i];
  if (x !== x && (flags[i] & FLAG_DEFAULT_LEFT) !== 0) return left[i];
  return right[i];
}

/** Raw scores of the first `trees` trees (all by default). */
export function predictRaw(forest: Forest, X: Matrix, trees = numTrees(forest)): Float64Array {
  if (X.cols !== forest.numFeatures) throw new Error(`gbdt: model has ${forest.numFeatures} features, matrix has ${X.cols}`);
  const n = X.rows;
  const F = X.cols;
  const data = X.data;
  const out = new Float64Array(n).fill(forest.initScore);
  const { treeNode, treeLeaf, feature, threshold, left, right, flags, catStart, catLen, catWords, leafValue } = forest;
  const hasCat = new Uint8Array(trees);
  for (let t = 0; t < trees; t++) for (let i = treeNode[t]; i < treeNode[t + 1]; i++) if (flags[i] & FLAG_CATEGORICAL) hasCat[t] = 1;
  const BLOCK = 512;
  for (let r0 = 0; r0 < n; r0 += BLOCK) {
    const r1 = Math.min(n, r0 + BLOCK);
    for (let t = 0; t < trees; t++) {
      const nb = treeNode[t];
      const lb = treeLeaf[t];
      if (treeNode[t + 1] === nb) {
        const v = leafValue[lb];
        for (let r = r0; r < r1; r++) out[r] += v;
        continue;
      }
      if (!hasCat[t]) {
        // Numeric-only tree: walk four rows in lockstep so their dependent load chains overlap.
        let r = r0;
        for (; r + 4 <= r1; r += 4) {
          const ra = r * F;
          const rb = ra + F;
          const rc = rb + F;
          const rd = rc + F;
          let a = 0;
          let b = 0;
          let c = 0;
          let d = 0;
          while ((a & b & c & d) >= 0) {
            if (a >= 0) a = step(nb + a, data[ra + feature[nb + a]], threshold, flags, left, right);
            if (b >= 0) b = step(nb + b, data[rb + feature[nb + b]], threshold, flags, left, right);
            if (c >= 0) c = step(nb + c, data[rc + feature[nb + c]], threshold, flags, left, right);
            if (d >= 0) d = step(nb + d, data[rd + feature[nb + d]], threshold, flags, left, right);
          }
          out[r] += leafValue[lb + ~a];
          out[r + 1] += leafValue[lb + ~b];
          out[r + 2] += leafValue[lb + ~c];
          out[r + 3] += leafValue[lb + ~d];
        }
        for (; r < r1; r++) {
          const row = r * F;
          let node = 0;
          while (node >= 0) node = step(nb + node, data[row + feature[nb + node]], threshold, flags, left, right);
          out[r] += leafValue[lb + ~node];
        }
        continue;
      }
      for (let r = r0; r < r1; r++) {
        const row = r * F;
        let node = 0;
        while (node >= 0) {
          const i = nb + node;
          const x = data[row + feature[i]];
          const fl = flags[i];
          let goLeft: boolean;
          if (x !== x) goLeft = (fl & FLAG_DEFAULT_LEFT) !== 0;
          else if ((fl & FLAG_CATEGORICAL) === 0) goLeft = x <= threshold[i];
          else {
            const w = x >>> 5;
            goLeft = x >= 0 && x === Math.floor(x) && w < catLen[i] && ((catWords[catStart[i] + w] >>> (x & 31)) & 1) === 1;
          }
          node = goLeft ? left[i] : right[i];
        }
        out[r] += leafValue[lb + ~node];
      }
    }
  }
  return out;
}

const ARRAYS = ['treeNode', 'treeLeaf', 'feature', 'threshold', 'left', 'right', 'flags', 'catStart', 'catLen', 'catWords', 'leafValue'] as const;

export function forestToJSON(f: Forest): Record<string, unknown> {
  const out: Record<string, unknown> = { numFeatures: f.numFeatures, initScore: f.initScore };
  for (const k of ARRAYS) {
    const a = Array.from(f[k] as ArrayLike<number>);
    out[k] = k === 'threshold' ? a.map((v) => (v === Infinity ? 'inf' : v)) : a;
  }
  return out;
}

export function forestFromJSON(j: Record<string, unknown>): Forest {
  const arr = (k: string): number[] => {
    const v = j[k];
    if (!Array.isArray(v)) throw new Error(`gbdt: model JSON lacks array "${k}"`);
    return v.map((x) => (x === 'inf' ? Infinity : Number(x)));
  };
  return {
    numFeatures: Number(j.numFeatures),
    initScore: Number(j.initScore),
    treeNode: Int32Array.from(arr('treeNode')),
    treeLeaf: Int32Array.from(arr('treeLeaf')),
    feature: Int32Array.from(arr('feature')),
    threshold: Float64Array.from(arr('threshold')),
    left: Int32Array.from(arr('left')),
    right: Int32Array.from(arr('right')),
    flags: Uint8Array.from(arr('flags')),
    catStart: Int32Array.from(arr('catStart')),
    catLen: Int32Array.from(arr('catLen')),
    catWords: Int32Array.from(arr('catWords')),
    leafValue: Float64Array.from(arr('leafValue')),
  };
}

/** Accumulates trees (in raw-value form) and freezes them into a Forest. */
export class ForestBuilder {
  private treeNode: number[] = [0];
  private treeLeaf: number[] = [0];
  private feature: number[] = [];
  private threshold: number[] = [];
  private left: number[] = [];
  private right: number[] = [];
  private flags: number[] = [];
  private catStart: number[] = [];
  private catLen: number[] = [];
  private catWords: number[] = [];
  private leafValue: number[] = [];

  constructor(
    private readonly numFeatures: number,
    private readonly initScore: number,
  ) {}

  /** Adds one tree; node children use the same encoding as Forest (>= 0 node, < 0 ~leaf). */
  addTree(tree: {
    feature: number[];
    threshold: number[];
    left: number[];
    right: number[];
    flags: number[];
    cats: (number[] | null)[];
    leafValue: number[];
  }): void {
    for (let i = 0; i < tree.feature.length; i++) {
      this.feature.push(tree.feature[i]);
      this.threshold.push(tree.threshold[i]);
      this.left.push(tree.left[i]);
      this.right.push(tree.right[i]);
      this.flags.push(tree.flags[i]);
      const cats = tree.cats[i];
      this.catStart.push(this.catWords.length);
      if (cats && cats.length) {
        const words = (Math.max(...cats) >> 5) + 1;
        const w = new Array<number>(words).fill(0);
        for (const c of cats) w[c >> 5] |= 1 << (c & 31);
        this.catWords.push(...w);
        this.catLen.push(words);
      } else this.catLen.push(0);
    }
    this.leafValue.push(...tree.leafValue);
    this.treeNode.push(this.feature.length);
    this.treeLeaf.push(this.leafValue.length);
  }

  /** The forest of the first `trees` trees. */
  build(trees = this.treeNode.length - 1): Forest {
    const nEnd = this.treeNode[trees];
    const lEnd = this.treeLeaf[trees];
    const cEnd = nEnd < this.catStart.length ? this.catStart[nEnd] : this.catWords.length;
    return {
      numFeatures: this.numFeatures,
      initScore: this.initScore,
      treeNode: Int32Array.from(this.treeNode.slice(0, trees + 1)),
      treeLeaf: Int32Array.from(this.treeLeaf.slice(0, trees + 1)),
      feature: Int32Array.from(this.feature.slice(0, nEnd)),
      threshold: Float64Array.from(this.threshold.slice(0, nEnd)),
      left: Int32Array.from(this.left.slice(0, nEnd)),
      right: Int32Array.from(this.right.slice(0, nEnd)),
      flags: Uint8Array.from(this.flags.slice(0, nEnd)),
      catStart: Int32Array.from(this.catStart.slice(0, nEnd)),
      catLen: Int32Array.from(this.catLen.slice(0, nEnd)),
      catWords: Int32Array.from(this.catWords.slice(0, cEnd)),
      leafValue: Float64Array.from(this.leafValue.slice(0, lEnd)),
    };
  }
}
