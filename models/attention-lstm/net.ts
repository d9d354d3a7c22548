/**
 * @file The `attention-lstm` network: its parameters and its forward graph, built with the
 * engine in models/nn (models/nn/fit-net.ts makes the training-step and inference graphs).
 *
 *   tokens x_1..x_T  (each a set of columns through a linear projection to `dim`; tokens that
 *                     share a projection may use a prefix of its rows)
 *   -> LSTM(units), unrolled over the T tokens; a token whose `present` flag is 0 leaves the
 *      state unchanged (an empty history slot)
 *   -> multi-head self-attention over the hidden states (absent tokens masked out as keys),
 *      output projection, mean over the present positions
 *   -> [attention summary | last hidden state | the head columns] -> dense layers (ReLU,
 *      dropout) -> one output (a standardised target, or a logit for binary tasks)
 *
 * Each step's gate input comes straight from its token (x_t Wx + b, then + h Wh): slicing one
 * stacked [n, T, 4H] product per step made the gradient pad and sum T full tensors (2.2x slower).
 *
 * Graph inputs: `rows` [n, cols] (raw float32 rows, encoded inside: models/nn/columns.ts) and the
 * parameters; training adds `mask<l>` [n, units] (dropout in dense layer l, scaled by 1/keep).
 */
import type { Random } from '../../core/random.ts';
import { Graph, type T } from '../nn/graph.ts';
import { ColumnInputs, embeddingParams, partWidth, type ColumnEncoding } from '../nn/columns.ts';
import type { Param } from '../nn/params.ts';

export interface Token {
  /** Column indices of X, in projection-row order. */
  cols: number[];
  /** Which projection (`P<k>`) maps the token to `dim`; it uses the first partWidth(cols) rows. */
  proj: number;
  /** Column holding the token's 0/1 presence flag; -1 = always present. */
  present: number;
}

export interface LstmSpec {
  tokens: Token[];
  /** Input width of each projection. */
  projWidths: number[];
  /** Columns fed straight to the dense head, beside the sequence summary. */
  head: number[];
  dim: number;
  units: number;
  heads: number;
  dense: number[];
  dropout: number;
}

function uniform(rng: Random, n: number, limit: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-limit, limit);
  return a;
}

function dense(name: string, fanIn: number, fanOut: number, rng: Random, gain: number): Param[] {
  return [
    { name: `W${name}`, shape: [fanIn, fanOut], data: uniform(rng, fanIn * fanOut, Math.sqrt((3 * gain) / fanIn)), trainable: true, decay: true },
    { name: `b${name}`, shape: [fanOut], data: new Float32Array(fanOut), trainable: true, decay: false },
  ];
}

/** Fresh parameters in a fixed order, drawn from rng. */
export function initParams(spec: LstmSpec, enc: ColumnEncoding, rng: Random): Param[] {
  const H = spec.units;
  const out: Param[] = embeddingParams(enc, rng);
  spec.projWidths.forEach((w, k) => out.push(...dense(`P${k}`, w, spec.dim, rng, 1)));
  // LSTM: PyTorch's U(-1/sqrt(H), 1/sqrt(H)); forget-gate bias 1 (remember by default).
  const lim = 1 / Math.sqrt(H);
  out.push({ name: 'Wx', shape: [spec.dim, 4 * H], data: uniform(rng, spec.dim * 4 * H, lim), trainable: true, decay: true });
  out.push({ name: 'Wh', shape: [H, 4 * H], data: uniform(rng, H * 4 * H, lim), trainable: true, decay: true });
  const b = new Float32Array(4 * H);
  b.fill(1, H, 2 * H);
  out.push({ name: 'bl', shape: [4 * H], data: b, trainable: true, decay: false });
  for (const m of ['q', 'k', 'v', 'o']) out.push({ name: `W${m}`, shape: [H, H], data: uniform(rng, H * H, Math.sqrt(6 / (2 * H))), trainable: true, decay: true });
  let fanIn = 2 * H + partWidth(enc, spec.head);
  spec.dense.forEach((u, l) => {
    out.push(...dense(`D${l}`, fanIn, u, rng, 2));
    fanIn = u;
  });
  out.push(...dense('out', fanIn, 1, rng, 1));
  return out;
}

/** The forward pass to one value per row; with `train`, dropout masks are graph inputs. */
export function forward(g: Graph, spec: LstmSpec, enc: ColumnEncoding, w: ReadonlyMap<string, T>, train: boolean): T {
  const cols = new ColumnInputs(g, enc, w);
  const { units: H, heads } = spec;
  const n = spec.tokens.length;
  const p = (name: string) => w.get(name)!;
  // Each token [n_rows, dim], then its input contribution to the LSTM gates [n_rows, 4H].
  const gx = spec.tokens.map((tok) => {
    const width = partWidth(enc, tok.cols);
    const W = width === spec.projWidths[tok.proj] ? p(`WP${tok.proj}`) : g.slice(p(`WP${tok.proj}`), [0], [width], [0]);
    return g.gemm(g.gemm(cols.part(tok.cols), W, p(`bP${tok.proj}`)), p('Wx'), p('bl'));
  });
  const masks = spec.tokens.map((tok) => (tok.present >= 0 ? cols.raw([tok.present]) : null));
  let h: T | null = null;
  let c: T | null = null;
  const states: T[] = [];
  for (let t = 0; t < n; t++) {
    const gates = h ? g.gemm(h, p('Wh'), gx[t]) : gx[t];
    const gate = (k: number) => g.slice(gates, [k * H], [(k + 1) * H], [1]);
    const i = g.sigmoid(gate(0));
    const f = g.sigmoid(gate(1));
    const u = g.tanh(gate(2));
    const o = g.sigmoid(gate(3));
    let c2: T = c ? g.add(g.mul(f, c), g.mul(i, u)) : g.mul(i, u);
    let h2: T = g.mul(o, g.tanh(c2));
    const m = masks[t];
    if (m) {
      // Absent token: the state carries over unchanged.
      const keep = g.sub(g.scalar(1), m);
      c2 = c ? g.add(g.mul(c2, m), g.mul(c, keep)) : g.mul(c2, m);
      h2 = h ? g.add(g.mul(h2, m), g.mul(h, keep)) : g.mul(h2, m);
    }
    c = c2;
    h = h2;
    states.push(g.reshape(h, [-1, 1, H]));
  }
  const Hs = states.length === 1 ? states[0] : g.concat(states, 1); // [n_rows, T, H]
  // Multi-head self-attention over the hidden states.
  const dh = H / heads;
  const flat = g.reshape(Hs, [-1, H]);
  const split = (x: T) => g.transpose(g.reshape(x, [-1, n, heads, dh]), [0, 2, 1, 3]); // [rows, heads, T, dh]
  const Q = split(g.matmul(flat, p('Wq')));
  const K = split(g.matmul(flat, p('Wk')));
  const V = split(g.matmul(flat, p('Wv')));
  let scores = g.mul(g.bmatmul(Q, g.transpose(K, [0, 1, 3, 2])), g.scalar(1 / Math.sqrt(dh)));
  const anyMask = masks.some((m) => m);
  let present: T | null = null; // [rows, T]
  if (anyMask) {
    // Always-present tokens get a column of ones (shaped like a flag column: 0/1, never NaN).
    const first = masks.find((m) => m)!;
    const ones = g.add(g.mul(first, g.scalar(0)), g.scalar(1));
    present = g.concat(
      masks.map((m) => m ?? ones),
      1,
    );
    // Absent keys get -1e4 before the softmax (exp underflows to 0).
    scores = g.add(scores, g.reshape(g.mul(g.sub(present, g.scalar(1)), g.scalar(1e4)), [-1, 1, 1, n]));
  }
  const mixed = g.bmatmul(g.softmax(scores, -1), V); // [rows, heads, T, dh]
  const att = g.reshape(g.matmul(g.reshape(g.transpose(mixed, [0, 2, 1, 3]), [-1, H]), p('Wo')), [-1, n, H]);
  let summary: T;
  if (present) {
    const m3 = g.reshape(present, [-1, n, 1]);
    summary = g.div(g.reduceSum(g.mul(att, m3), [1], false), g.max(g.reduceSum(m3, [1], false), g.scalar(1)));
  } else {
    summary = g.reduceMean(att, [1], false);
  }
  let z = g.concat([summary, h!, ...(spec.head.length ? [cols.part(spec.head)] : [])], 1);
  spec.dense.forEach((u, l) => {
    z = g.relu(g.gemm(z, p(`WD${l}`), p(`bD${l}`)));
    if (train && spec.dropout > 0) z = g.mul(z, g.input(`mask${l}`, [-1, u]));
  });
  return g.reshape(g.gemm(z, p('Wout'), p('bout')), [-1]);
}

