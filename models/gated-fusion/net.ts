/**
 * @file The `gated-fusion` network (a mixture of modality experts) and its forward graph, built
 * with the engine in models/nn.
 *
 *   expert e:  its columns -> dense layers (ReLU, dropout) -> one output y_e
 *   gate:      every column -> dense layers (ReLU) -> softmax over the experts -> g_e
 *   out = sum_e g_e y_e      (a standardised target, or a logit for binary tasks)
 *
 * Trained end to end: the gate learns which expert to trust for which rows. The inference graph
 * also outputs `gate` [n, experts], the weights the report summarises.
 *
 * Graph inputs: `rows` [n, cols] (raw float32 rows, encoded inside: models/nn/columns.ts) and the
 * parameters; training adds `mask<e>_<l>` [n, units] (dropout in expert e's layer l, scaled by
 * 1/keep). models/nn/fit-net.ts makes the training-step and inference graphs.
 */
import type { Random } from '../../core/random.ts';
import type { Graph, T } from '../nn/graph.ts';
import { ColumnInputs, embeddingParams, partWidth, type ColumnEncoding } from '../nn/columns.ts';
import type { Param } from '../nn/params.ts';

export interface GatedSpec {
  experts: { name: string; cols: number[] }[];
  /** Hidden widths of each expert. */
  hidden: number[];
  /** Hidden widths of the gate before its softmax layer ([] = a linear gate). */
  gateHidden: number[];
  dropout: number;
}

function denseParams(name: string, fanIn: number, fanOut: number, rng: Random, gain: number): Param[] {
  const limit = Math.sqrt((3 * gain) / fanIn);
  const W = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < W.length; i++) W[i] = rng.uniform(-limit, limit);
  return [
    { name: `W${name}`, shape: [fanIn, fanOut], data: W, trainable: true, decay: true },
    { name: `b${name}`, shape: [fanOut], data: new Float32Array(fanOut), trainable: true, decay: false },
  ];
}

/** Fresh parameters in a fixed order, drawn from rng. */
export function initParams(spec: GatedSpec, enc: ColumnEncoding, rng: Random): Param[] {
  const out: Param[] = embeddingParams(enc, rng);
  spec.experts.forEach((e, k) => {
    let fanIn = partWidth(enc, e.cols);
    spec.hidden.forEach((u, l) => {
      out.push(...denseParams(`E${k}_${l}`, fanIn, u, rng, 2));
      fanIn = u;
    });
    out.push(...denseParams(`E${k}_out`, fanIn, 1, rng, 1));
  });
  let fanIn = partWidth(
    enc,
    enc.columns.map((_, c) => c),
  );
  spec.gateHidden.forEach((u, l) => {
    out.push(...denseParams(`G${l}`, fanIn, u, rng, 2));
    fanIn = u;
  });
  // A zero gate layer: every expert starts with the same weight.
  out.push({ name: 'WG_out', shape: [fanIn, spec.experts.length], data: new Float32Array(fanIn * spec.experts.length), trainable: true, decay: true });
  out.push({ name: 'bG_out', shape: [spec.experts.length], data: new Float32Array(spec.experts.length), trainable: true, decay: false });
  return out;
}

/** The output [n] and the gate weights [n, experts]; with `train`, dropout masks are graph inputs. */
export function forward(g: Graph, spec: GatedSpec, enc: ColumnEncoding, w: ReadonlyMap<string, T>, train: boolean): { out: T; gate: T } {
  const cols = new ColumnInputs(g, enc, w);
  const p = (name: string) => w.get(name)!;
  const outs = spec.experts.map((e, k) => {
    let h = cols.part(e.cols);
    spec.hidden.forEach((u, l) => {
      h = g.relu(g.gemm(h, p(`WE${k}_${l}`), p(`bE${k}_${l}`)));
      if (train && spec.dropout > 0) h = g.mul(h, g.input(`mask${k}_${l}`, [-1, u]));
    });
    return g.gemm(h, p(`WE${k}_out`), p(`bE${k}_out`)); // [n, 1]
  });
  let z = cols.part(enc.columns.map((_, c) => c));
  spec.gateHidden.forEach((_, l) => {
    z = g.relu(g.gemm(z, p(`WG${l}`), p(`bG${l}`)));
  });
  const gate = g.softmax(g.gemm(z, p('WG_out'), p('bG_out')), -1);
  const Y = outs.length === 1 ? outs[0] : g.concat(outs, 1);
  return { out: g.reduceSum(g.mul(gate, Y), [1], false), gate };
}

/** Names of the dropout mask inputs with their widths, in feed order. */
export function maskInputs(spec: GatedSpec): { name: string; units: number }[] {
  if (spec.dropout <= 0) return [];
  return spec.experts.flatMap((_, k) => spec.hidden.map((u, l) => ({ name: `mask${k}_${l}`, units: u })));
}
