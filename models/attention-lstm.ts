/**
 * @file `attention-lstm`: an LSTM over a sequence of tokens, multi-head self-attention over its
 * hidden states, the attention summary fused with the last hidden state, then a dense head
 * (network: models/attention-lstm/net.ts; trained on onnxruntime by models/nn/fit-net.ts).
 * Regression (standardised target) and binary (logit, cross-entropy).
 *
 * Two ways to make a row a sequence:
 * - `sequence: groups` (the digital-artwork study): the row's own feature vector cut into
 *   tokens, one per column (`tokens: columns`) or per feature block (`tokens: blocks`), each
 *   through its own linear projection to a common width `dim`.
 * - `sequence: user_history` (sequence models on SMPD): the user's previous k posts, oldest
 *   first, then the post itself. The previous posts come from a `user-history` feature block
 *   (features/user-history.ts, id given by `history`): a label-aware block the runner fits
 *   inside each fold, so a post's history holds only earlier posts and only training labels of
 *   that fold; the learner itself needs no table columns. Each slot's features, label, label-known
 *   flag and age share one projection; the post's own token is the same columns of the row
 *   (matched by name, so the block's inputs must be among the model's features) through the
 *   same projection's feature rows. Empty slots leave the LSTM state unchanged and are masked
 *   out of the attention. Columns in neither go to the dense head beside the sequence summary.
 *
 * Defaults follow the study: Adam, learning rate 1e-3, batch 128, up to 150 epochs, piecewise
 * decay x0.1 (at 50% and 75% of the epochs), shuffled each epoch; early stopping on the fold's
 * validation rows with the best epoch restored.
 *
 * @example
 *   - id: alstm
 *     kind: attention-lstm
 *     params: { sequence: user_history, history: hist, units: 32, heads: 4 }
 */
import { z } from 'zod';
import type { Matrix } from '../core/matrix.ts';
import { UserError } from '../core/errors.ts';
import { defineModel, type FitContext, type FittedModel } from './model.ts';
import { forward, initParams, type LstmSpec, type Token } from './attention-lstm/net.ts';
import { partWidth, type ColumnEncoding } from './nn/columns.ts';
import { fitNet, inputMass, loadNetState, networkModel, prepareFit, trainingParams, type Net, type NetState } from './nn/fit-net.ts';
import type { Param } from './nn/params.ts';

const KIND = 'attention-lstm';
const MAX_TOKENS = 256;
/** Suffixes of a user-history slot's non-feature columns (features/user-history.ts). */
const SLOT_EXTRA = ['label', 'label_known', 'age_days'] as const;

const params = z
  .object({
    sequence: z.enum(['groups', 'user_history']).default('groups').describe("groups: the row's features cut into tokens; user_history: the user's previous posts, then this one"),
    tokens: z.enum(['columns', 'blocks']).default('columns').describe('sequence groups: one token per column, or one per feature block'),
    history: z.string().default('history').describe('sequence user_history: id of the user-history feature block'),
    dim: z.number().int().min(1).default(32).describe('token width after the per-token (or shared) projection'),
    units: z.number().int().min(1).default(32).describe('LSTM hidden units (also the attention width)'),
    heads: z.number().int().min(1).default(4).describe('attention heads (must divide units)'),
    dense: z.array(z.number().int().min(1)).default([64]).describe('dense head hidden widths'),
    dropout: z.number().min(0).max(0.9).default(0.1).describe('dropout after each dense head layer'),
    ...trainingParams,
  })
  .strict()
  .refine((p) => p.units % p.heads === 0, { message: 'units must be a multiple of heads', path: ['heads'] });

export type AttentionLstmParams = z.output<typeof params>;

type State = NetState<LstmSpec>;

const blockOf = (name: string) => (name.includes('.') ? name.slice(0, name.indexOf('.')) : name);

/** Tokens of `sequence: groups`: one per column or per block, each with its own projection. */
function groupTokens(X: Matrix, p: AttentionLstmParams): { tokens: Token[]; head: number[] } {
  let groups: number[][];
  if (p.tokens === 'columns') groups = X.names.map((_, c) => [c]);
  else {
    const byBlock = new Map<string, number[]>();
    X.names.forEach((n, c) => byBlock.set(blockOf(n), [...(byBlock.get(blockOf(n)) ?? []), c]));
    groups = [...byBlock.values()];
  }
  if (groups.length > MAX_TOKENS) throw new UserError(`${KIND}: ${groups.length} tokens (one per ${p.tokens === 'columns' ? 'column' : 'block'}) is more than ${MAX_TOKENS}; use tokens: blocks or fewer features`);
  return { tokens: groups.map((cols, k) => ({ cols, proj: k, present: -1 })), head: [] };
}

/**
 * Tokens of `sequence: user_history`: the history block's slots h<k> .. h<1> (oldest first), then
 * the row itself; categorical features get one embedding width across slots and the row.
 */
function historyTokens(X: Matrix, enc: ColumnEncoding, p: AttentionLstmParams): { tokens: Token[]; head: number[] } {
  const prefix = `${p.history}.h`;
  const slots = new Map<number, { feats: { suffix: string; col: number }[]; extra: Record<string, number>; present: number }>();
  X.names.forEach((name, col) => {
    if (!name.startsWith(prefix)) return;
    const m = /^(\d+)\.(.+)$/.exec(name.slice(prefix.length));
    if (!m) return;
    const j = Number(m[1]);
    const slot = slots.get(j) ?? { feats: [], extra: {}, present: -1 };
    slots.set(j, slot);
    if (m[2] === 'present') slot.present = col;
    else if ((SLOT_EXTRA as readonly string[]).includes(m[2])) slot.extra[m[2]] = col;
    else slot.feats.push({ suffix: m[2], col });
  });
  if (!slots.size) {
    const blocks = [...new Set(X.names.map(blockOf))].join(', ');
    throw new UserError(`${KIND}: sequence: user_history needs the columns of a user-history block "${p.history}" among its features (its blocks: ${blocks}); set params.history`);
  }
  const order = [...slots.keys()].sort((a, b) => b - a); // h<k> (oldest) first
  const first = slots.get(order[0])!;
  const own = first.feats.map(({ suffix }) => {
    const c = X.names.indexOf(suffix);
    if (c < 0) throw new UserError(`${KIND}: the history block "${p.history}" carries column ${suffix}, but the row's own ${suffix} is not among the model's features; add its block to the model's features`);
    return c;
  });
  const used = new Set<number>(own);
  const tokens: Token[] = order.map((j) => {
    const s = slots.get(j)!;
    if (s.present < 0 || SLOT_EXTRA.some((e) => s.extra[e] === undefined) || s.feats.length !== own.length)
      throw new UserError(`${KIND}: history slot h${j} of "${p.history}" lacks columns (expected its features, ${SLOT_EXTRA.join(', ')}, present)`);
    s.feats.forEach((f, i) => {
      const a = enc.columns[f.col];
      const b = enc.columns[own[i]];
      if (a.type !== b.type) throw new UserError(`${KIND}: ${X.names[f.col]} and ${X.names[own[i]]} differ in type (categorical vs numeric)`);
      if (a.type === 'cat' && b.type === 'cat') a.dim = b.dim; // one projection: equal widths
    });
    const cols = [...s.feats.map((f) => f.col), ...SLOT_EXTRA.map((e) => s.extra[e])];
    for (const c of [...cols, s.present]) used.add(c);
    return { cols, proj: 0, present: s.present };
  });
  tokens.push({ cols: own, proj: 0, present: -1 });
  return { tokens, head: X.names.map((_, c) => c).filter((c) => !used.has(c)) };
}

function netOf(state: Pick<State, 'encoding' | 'spec' | 'params'>, dropout: number): Net {
  const { spec, encoding } = state;
  return {
    kind: KIND,
    params: state.params,
    build: (g, w, train) => ({ out: forward(g, spec, encoding, w, train) }),
    masks: spec.dense.map((units, l) => ({ name: `mask${l}`, units })),
    dropout,
  };
}

/** Per column: the mass of its rows in the first weights it meets (projection or head layer). */
function importanceOf(state: State): Record<string, number> {
  const { spec, encoding } = state;
  const byName = new Map(state.params.map((q) => [q.name, q]));
  const imp: Record<string, number> = {};
  const add = (W: Param, cols: number[], row: number) => inputMass(W, encoding, cols, row).forEach((m, i) => (imp[encoding.names[cols[i]]] = m));
  for (const tok of spec.tokens) add(byName.get(`WP${tok.proj}`)!, tok.cols, 0);
  if (spec.head.length) add(byName.get(spec.dense.length ? 'WD0' : 'Wout')!, spec.head, 2 * spec.units);
  return imp;
}

function fitted(state: State): FittedModel {
  return networkModel(KIND, state, netOf(state, 0).build, { importance: () => importanceOf(state) });
}

async function fitAttentionLstm(X: Matrix, y: Float64Array, p: AttentionLstmParams, ctx: FitContext): Promise<FittedModel> {
  const { target, encoding, options: o, valid, rng } = prepareFit(KIND, X, y, p, ctx);
  const { tokens, head } = p.sequence === 'groups' ? groupTokens(X, p) : historyTokens(X, encoding, p);
  const projWidths: number[] = [];
  for (const t of tokens) projWidths[t.proj] = Math.max(projWidths[t.proj] ?? 0, partWidth(encoding, t.cols));
  const spec: LstmSpec = { tokens, projWidths, head, dim: p.dim, units: p.units, heads: p.heads, dense: [...p.dense], dropout: p.dropout };
  const init = initParams(spec, encoding, rng.fork('init'));
  ctx.log?.(
    `${KIND}: ${X.rows} rows, ${tokens.length} tokens (${p.sequence}${p.sequence === 'groups' ? `, one per ${p.tokens === 'columns' ? 'column' : 'block'}` : `, ${tokens.length - 1} history slots`}), ` +
      `${head.length} head columns, dim ${p.dim}, LSTM ${p.units}, ${p.heads} heads, dense ${[...p.dense, 1].join('-')}; ${o.optimizer.kind}, batch ${o.batchSize}, up to ${o.epochs} epochs; onnxruntime ${o.threads} threads`,
  );
  const { params: trained, bestEpoch } = await fitNet(netOf({ encoding, spec, params: init }, p.dropout), X, target.y, ctx.weight, valid, o, rng, ctx);
  return fitted({ task: ctx.task, encoding, spec, mean: target.mean, scale: target.scale, params: trained, bestEpoch, threads: o.threads, predictBatch: o.predictBatch });
}

export const attentionLstm = defineModel({
  kind: KIND,
  summary: "LSTM + multi-head attention over feature-group tokens or a user's previous posts, on onnxruntime",
  importanceMethod: 'first-layer weight mass: sum of |weights| leaving each standardised input column in its token projection (or the dense head for columns outside the tokens)',
  params,
  fit: fitAttentionLstm,
  load: (json) => fitted(loadNetState<LstmSpec>(KIND, json)),
});
