/**
 * @file `gated-fusion`: one expert MLP per named feature group (modality) and a softmax gate
 * computed from all inputs, mixing the experts' outputs per row (mixture of experts), trained
 * end to end on onnxruntime (network: models/gated-fusion/net.ts; loop: models/nn/fit-net.ts).
 * Regression (standardised target) and binary (mixed logits, cross-entropy).
 *
 * `experts: { name: [block ids] }` maps each expert to the columns of its feature blocks (column
 * names are `<block id>.<column>`). Columns of no expert (e.g. a segment indicator) reach the
 * gate only. The fitted model records the mean gate weight per expert on its validation rows
 * (the fold's held-out rows), overall and per value of `gate_segment` (a feature column); the
 * runner pools the folds and the report shows the table.
 *
 * @example
 *   - id: gated
 *     kind: gated-fusion
 *     params: { experts: { visual: [img], textual: [txt], metadata: [meta] }, gate_segment: seg.segment }
 */
import { z } from 'zod';
import type { Matrix } from '../core/matrix.ts';
import { UserError } from '../core/errors.ts';
import { defineModel, type FitContext, type FittedModel, type GateSummary } from './model.ts';
import { forward, initParams, maskInputs, type GatedSpec } from './gated-fusion/net.ts';
import { NetPredictor, fitNet, inputMass, loadNetState, networkModel, prepareFit, trainingParams, type Net, type NetState } from './nn/fit-net.ts';

const KIND = 'gated-fusion';

const params = z
  .object({
    experts: z
      .record(z.string().regex(/^[A-Za-z0-9_-]+$/), z.array(z.string()).min(1))
      .refine((e) => Object.keys(e).length >= 1, 'at least one expert')
      .describe('expert name -> the feature block ids whose columns it reads'),
    gate_segment: z.string().optional().describe('feature column (`<block id>.<column>`, or a column name one block has) to break the gate weights down by'),
    hidden: z.array(z.number().int().min(1)).default([32]).describe('hidden widths of each expert MLP'),
    gate_hidden: z.array(z.number().int().min(1)).default([16]).describe('hidden widths of the gate before its softmax ([] = linear gate)'),
    dropout: z.number().min(0).max(0.9).default(0.1).describe('dropout after each expert hidden layer'),
    ...trainingParams,
  })
  .strict();

export type GatedFusionParams = z.output<typeof params>;

interface State extends NetState<GatedSpec> {
  /** Gate weights on the fit's validation rows (absent without them). */
  gates?: GateSummary;
}

function expertsOf(X: Matrix, experts: Record<string, string[]>): GatedSpec['experts'] {
  const blocks = [...new Set(X.names.map((n) => n.slice(0, Math.max(0, n.indexOf('.')))))];
  const owner = new Map<string, string>();
  return Object.entries(experts).map(([name, ids]) => {
    const cols: number[] = [];
    for (const id of ids) {
      if (owner.has(id)) throw new UserError(`${KIND}: block ${id} is in experts ${owner.get(id)} and ${name}`);
      owner.set(id, name);
      const mine = X.names.flatMap((n, c) => (n.startsWith(`${id}.`) ? [c] : []));
      if (!mine.length) throw new UserError(`${KIND}: expert ${name}: block ${id} has no columns among the model's features (blocks: ${blocks.join(', ')})`);
      cols.push(...mine);
    }
    return { name, cols };
  });
}

function segmentColumn(X: Matrix, name: string): number {
  const exact = X.names.indexOf(name);
  if (exact >= 0) return exact;
  const hits = X.names.flatMap((n, c) => (n.endsWith(`.${name}`) ? [c] : []));
  if (hits.length !== 1)
    throw new UserError(`${KIND}: gate_segment ${name} ${hits.length ? `matches ${hits.map((c) => X.names[c]).join(', ')}` : 'is not a feature column'}; give <block id>.<column>`);
  return hits[0];
}

/** Mean gate weight per expert over the rows of X, overall and per value of column `seg`. */
export function summariseGates(experts: string[], gate: Float32Array, X: Matrix, seg: number): GateSummary {
  const E = experts.length;
  const groups = new Map<string, { n: number; sum: Float64Array }>();
  const add = (key: string, r: number) => {
    let gr = groups.get(key);
    if (!gr) groups.set(key, (gr = { n: 0, sum: new Float64Array(E) }));
    gr.n++;
    for (let e = 0; e < E; e++) gr.sum[e] += gate[r * E + e];
  };
  for (let r = 0; r < X.rows; r++) {
    add('all', r);
    if (seg >= 0) {
      const v = X.data[r * X.cols + seg];
      add(Number.isFinite(v) ? String(Number(v.toPrecision(6))) : 'missing', r);
    }
  }
  const keys = [...groups.keys()].filter((k) => k !== 'all').sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
  return {
    experts,
    ...(seg >= 0 ? { segment: X.names[seg] } : {}),
    rows: ['all', ...keys].map((k) => ({ segment: k, n: groups.get(k)!.n, mean: Array.from(groups.get(k)!.sum, (s) => s / groups.get(k)!.n) })),
  };
}

function netOf(state: Pick<State, 'encoding' | 'spec' | 'params'>): Net {
  const { spec, encoding } = state;
  return { kind: KIND, params: state.params, build: (g, w, train) => forward(g, spec, encoding, w, train), masks: maskInputs(spec), dropout: spec.dropout };
}

/** Per column: the mass of its rows in its expert's first layer, scaled by the expert's mean gate weight. */
function importanceOf(state: State): Record<string, number> {
  const { spec, encoding } = state;
  const byName = new Map(state.params.map((q) => [q.name, q]));
  const imp: Record<string, number> = {};
  spec.experts.forEach((e, k) => {
    const weight = state.gates ? state.gates.rows[0].mean[k] : 1 / spec.experts.length;
    const W = byName.get(spec.hidden.length ? `WE${k}_0` : `WE${k}_out`)!;
    inputMass(W, encoding, e.cols).forEach((m, i) => (imp[encoding.names[e.cols[i]]] = weight * m));
  });
  return imp;
}

function fitted(state: State): FittedModel {
  return networkModel(KIND, state, netOf(state).build, { importance: () => importanceOf(state), gates: () => state.gates });
}

async function fitGatedFusion(X: Matrix, y: Float64Array, p: GatedFusionParams, ctx: FitContext): Promise<FittedModel> {
  const { target, encoding, options: o, valid, rng } = prepareFit(KIND, X, y, p, ctx);
  const spec: GatedSpec = { experts: expertsOf(X, p.experts), hidden: [...p.hidden], gateHidden: [...p.gate_hidden], dropout: p.dropout };
  const seg = p.gate_segment ? segmentColumn(X, p.gate_segment) : -1;
  const init = initParams(spec, encoding, rng.fork('init'));
  ctx.log?.(
    `${KIND}: ${X.rows} rows, experts ${spec.experts.map((e) => `${e.name} (${e.cols.length} columns)`).join(', ')}, gate on all ${X.cols} columns; ` +
      `expert layers ${[...p.hidden, 1].join('-')}, ${o.optimizer.kind}, batch ${o.batchSize}, up to ${o.epochs} epochs; onnxruntime ${o.threads} threads`,
  );
  const { params: trained, bestEpoch } = await fitNet(netOf({ encoding, spec, params: init }), X, target.y, ctx.weight, valid, o, rng, ctx);
  const state: State = { task: ctx.task, encoding, spec, mean: target.mean, scale: target.scale, params: trained, bestEpoch, threads: o.threads, predictBatch: o.predictBatch };
  if (valid) {
    const gp = new NetPredictor(netOf(state).build, trained, o.threads, ['gate']);
    try {
      state.gates = summariseGates(
        spec.experts.map((e) => e.name),
        gp.run(valid.X, o.predictBatch).gate,
        valid.X,
        seg,
      );
    } finally {
      gp.dispose();
    }
  }
  return fitted(state);
}

export const gatedFusion = defineModel({
  kind: KIND,
  summary: 'one expert MLP per feature group and a softmax gate over all inputs (mixture of experts), on onnxruntime',
  importanceMethod: "first-layer weight mass in the column's expert, times that expert's mean gate weight",
  params,
  fit: fitGatedFusion,
  load: (json) => fitted(loadNetState<GatedSpec>(KIND, json) as State),
});
