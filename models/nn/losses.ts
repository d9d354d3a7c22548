/**
 * @file Per-row losses as graph ops (differentiable through the engine's rules), and the
 * weighted mean that makes a batch loss.
 *
 *   mse: e^2      mae: |e|      huber: c (e - c/2) with c = clip(e, -delta, delta)
 *   logloss (on a logit x, label y in {0,1}): softplus(x) - x y
 *
 * @example
 *   const loss = weightedMean(g, rowLoss(g, 'huber', out, y, 1), w);
 */
import type { Graph, T } from './graph.ts';

export type LossKind = 'mse' | 'mae' | 'huber' | 'logloss';

export function rowLoss(g: Graph, kind: LossKind, out: T, y: T, delta = 1): T {
  if (kind === 'logloss') return g.sub(g.softplus(out), g.mul(out, y));
  const e = g.sub(out, y);
  if (kind === 'mse') return g.square(e);
  if (kind === 'mae') return g.abs(e);
  const c = g.clip(e, -delta, delta);
  return g.mul(c, g.sub(e, g.mul(c, g.scalar(0.5))));
}

/** sum(l w) / max(sum(w), 1e-12): a batch of zero-weight rows contributes nothing (not 0/0). */
export function weightedMean(g: Graph, l: T, w: T): T {
  const axes = l.shape.map((_, i) => i);
  return g.div(g.reduceSum(g.mul(l, w), axes, false), g.max(g.reduceSum(w, axes, false), g.scalar(1e-12)));
}

/** The same losses in float64, for metrics computed in JavaScript. */
export function rowLossJs(kind: LossKind, out: number, y: number, delta = 1): number {
  if (kind === 'logloss') return Math.max(out, 0) - out * y + Math.log1p(Math.exp(-Math.abs(out)));
  const e = Math.abs(out - y);
  if (kind === 'mse') return e * e;
  if (kind === 'mae') return e;
  return e <= delta ? 0.5 * e * e : delta * (e - 0.5 * delta);
}
