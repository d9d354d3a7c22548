/**
 * @file One tree at a time for the classic learners (decision-tree, random-forest, adaboost),
 * grown by the gbdt machinery: the training matrix is binned once (quantile bins with a missing
 * bin, category bins), and every tree is grown by the gbdt Grower on the gbdt engine and worker
 * pool (histograms split by feature over the threads, results thread-independent).
 *
 * The criterion is weighted squared error: row i with weight w_i gets gradient w_i (m - y_i) and
 * hessian w_i around the weighted mean m, so a split's gain is the reduction of the weighted sum
 * of squared errors and a leaf holds the weighted mean of its labels. On 0/1 labels
 * a node of weight W and class-1 share p has squared error W p (1 - p), half its weighted Gini
 * impurity W 2p(1 - p): the gain is half CART's Gini decrease (same splits) and the leaf value
 * the class-1 share. Rows of weight 0 are left out of the tree, so bootstrap counts are just
 * weights on the one binned matrix (no row copies). Random forests pass a per-node feature
 * count: each leaf's candidate features are drawn (seeded, on the main thread) just before its
 * split is searched; histograms still cover all features, so siblings come by subtraction.
 *
 * @example
 *   const fitter = await TreeFitter.start(X, y, params, rng, 'random-forest');
 *   try { const t = fitter.grow(y, counts, 4); builder.addTree(fitter.rawTree(t)); } finally { await fitter.close(); }
 */
import type { Matrix } from '../../core/matrix.ts';
import type { Random } from '../../core/random.ts';
import { binMatrix, fitBinMappers, type BinMapper } from '../gbdt/binning.ts';
import { allocateEngine, type EngineInit } from '../gbdt/engine.ts';
import { Grower, binTreeLeaves, type BinTree, type GrowConfig } from '../gbdt/grow.ts';
import { ThreadPool } from '../gbdt/pool.ts';
import { resolveThreads, toRawTree } from '../gbdt/train.ts';
import type { TreeShape } from './params.ts';

/** Minimum weight on either side of a split (gbdt's min_sum_hessian_in_leaf default). */
const MIN_HESSIAN = 1e-3;
/** Histogram memory above which fitting stops with an error naming num_leaves (bytes). */
const MAX_HISTOGRAM_BYTES = 4 * 2 ** 30;

/** A grown tree: the bin-space tree and its leaf values (weighted label means). */
export interface FittedTree {
  tree: BinTree;
  values: number[];
}

export class TreeFitter {
  readonly n: number;
  readonly F: number;
  private readonly featOrder: Int32Array;
  /** The Grower reads nodeFeatures at every grow: set per tree (undefined: all features). */
  private readonly growCfg: GrowConfig;
  private readonly grower: Grower;
  private nodeCount = 0;

  private constructor(
    private readonly init: EngineInit,
    private readonly pool: ThreadPool,
    private readonly mappers: BinMapper[],
    private readonly missingBin: Int32Array,
    slots: number,
    p: TreeShape,
    private readonly nodeRng: Random,
  ) {
    this.n = init.n;
    this.F = init.F;
    this.featOrder = Int32Array.from({ length: init.F }, (_, f) => f);
    this.growCfg = { numLeaves: p.num_leaves, maxDepth: p.max_depth, minDataInLeaf: p.min_data_in_leaf, minSumHessian: MIN_HESSIAN, lambdaL1: 0, lambdaL2: 0 };
    this.grower = new Grower(init, pool, this.growCfg, slots, missingBin);
  }

  /** Bins X and starts the worker pool; `close()` must follow (try / finally). */
  static async start(X: Matrix, y: Float64Array, p: TreeShape, rng: Random, kind: string): Promise<TreeFitter> {
    const n = X.rows;
    const F = X.cols;
    // Splits of a pure node gain 0 up to rounding; gains below 1e-10 of the labels' total squared
    // error count as 0, so pure nodes stay leaves (scikit-learn's impurity <= epsilon rule).
    let mean = 0;
    for (let i = 0; i < n; i++) mean += y[i] / n;
    let sse = 0;
    for (let i = 0; i < n; i++) sse += (y[i] - mean) ** 2;
    const mappers = fitBinMappers(X, p.max_bin, p.bin_sample_rows, rng.fork('bins'));
    const numBins = Int32Array.from(mappers, (m) => m.numBins);
    // A leaf holds at least one row, so a tree never has more than n leaves.
    const slots = Math.min(p.num_leaves, n);
    let totalBins = 0;
    for (const m of mappers) totalBins += m.numBins;
    const bytes = slots * totalBins * 16;
    if (bytes > MAX_HISTOGRAM_BYTES) {
      throw new Error(`${kind}: num_leaves ${p.num_leaves} with ${totalBins} bins over ${F} features needs ${(bytes / 2 ** 30).toFixed(1)} GiB of histograms; lower num_leaves or max_bin`);
    }
    const rowBins = new Uint8Array(new SharedArrayBuffer(Math.max(1, n * F)));
    const bins = binMatrix(X, mappers, true, rowBins);
    const init = allocateEngine({
      packM: 0,
      n,
      bins,
      rowBins,
      numBins,
      isCat: Uint8Array.from(mappers, (m) => (m.categorical ? 1 : 0)),
      slots,
      threads: resolveThreads(p, n, F),
      // Categorical splits as CART's for two classes: categories ordered by mean label, best prefix.
      cfg: {
        lambdaL1: 0,
        lambdaL2: 0,
        minDataInLeaf: p.min_data_in_leaf,
        minSumHessian: MIN_HESSIAN,
        minGainToSplit: Math.max(p.min_gain_to_split, 1e-10 * sse),
        catSmooth: 0,
        catL2: 0,
        minDataPerGroup: 1,
        maxCatThreshold: 128,
        maxCatToOnehot: 1,
      },
    });
    init.featMask.fill(1);
    const missingBin = Int32Array.from(mappers, (m) => m.numBins - 1);
    const pool = await ThreadPool.start(init);
    return new TreeFitter(init, pool, mappers, missingBin, slots, p, rng.fork('node-features'));
  }

  /** Partial Fisher-Yates: nodeCount of the F features, seeded. */
  private drawFeatures(mask: Uint8Array): void {
    const order = this.featOrder;
    const F = this.F;
    mask.fill(0);
    for (let i = 0; i < this.nodeCount; i++) {
      const j = i + this.nodeRng.int(F - i);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
      mask[order[i]] = 1;
    }
  }

  /**
   * Grows one tree on the rows with weight > 0 (weighted squared error, see the file comment);
   * each leaf searches `nodeFeatures` features drawn for it (F or more: all features, no draws).
   */
  grow(y: Float64Array, w: Float64Array, nodeFeatures = this.F): FittedTree {
    const { idx, gh } = this.init;
    const n = this.n;
    let rows = 0;
    let sw = 0;
    let swy = 0;
    for (let i = 0; i < n; i++) {
      if (!(w[i] > 0)) continue;
      idx[rows++] = i;
      sw += w[i];
      swy += w[i] * y[i];
    }
    if (rows === 0) throw new Error('trees: every training row has weight 0');
    const m = swy / sw;
    for (let i = 0; i < n; i++) {
      const wi = w[i] > 0 ? w[i] : 0;
      gh[2 * i] = wi * (m - y[i]);
      gh[2 * i + 1] = wi;
    }
    this.nodeCount = nodeFeatures;
    this.growCfg.nodeFeatures = nodeFeatures < this.F ? (mask) => this.drawFeatures(mask) : undefined;
    const tree = this.grower.grow(rows, rows === n);
    // Leaf values straight from the leaf's rows (m - G/H is the same up to rounding; a pure leaf
    // then holds its label exactly).
    const values = tree.leafStart.map((start, l) => {
      let lw = 0;
      let lwy = 0;
      for (let k = start; k < start + tree.leafCount[l]; k++) {
        const i = idx[k];
        lw += w[i];
        lwy += w[i] * y[i];
      }
      return lwy / lw;
    });
    return { tree, values };
  }

  /** Leaf index of every training row (rows of weight 0 included) into `out` (length n). */
  leaves(t: FittedTree, out: Int32Array): void {
    binTreeLeaves(t.tree, this.init.bins, this.n, this.missingBin, null, out);
  }

  /** The tree in raw-value form for ForestBuilder, with leaf values `values` (default: its own). */
  rawTree(t: FittedTree, values: number[] = t.values) {
    return toRawTree(t.tree, this.mappers, values);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
