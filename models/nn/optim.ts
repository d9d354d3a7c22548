/**
 * @file The optimizer update as graph nodes over ONE flat parameter vector, so one run of the
 * training-step graph does forward, backward and update with a handful of elementwise nodes
 * whatever the number of layers. The vector `p`, its gradient and the optimizer state (`m`,
 * `v`: inputs of the same length) go in; the updated vectors come out as `params.next`,
 * `m.next`, `v.next`. The step-dependent scalars are inputs too:
 *
 *   - adam:  m' = b1 m + (1-b1) g, v' = b2 v + (1-b2) g^2,
 *            p' = p - lr/(1-b1^t) m' / (sqrt(v'/(1-b2^t)) + eps) - lr wd p   (decoupled decay, AdamW)
 *            computed with the state kept scaled, M = m/(1-b1) and V = v/(1-b2), so that
 *            M' = b1 M + g, V' = b2 V + g^2 and p' = p - lr_t M' / (sqrt(V') + eps_t), with the
 *            bias corrections and scales folded into two scalar inputs `lr_t` and `eps_t`
 *            (stepScalars; `lr` is an input too, for the decay): ten passes over the vector instead of
 *            thirteen.
 *   - sgd:   `lr`; p' = p - lr (g + wd p)
 *
 * Weight decay applies where `decay` (a constant 0/1 vector) is 1.
 *
 * @example
 *   addFlatUpdate(g, p, grad, decayMask, { kind: 'adam', weightDecay: 0 });
 *   // each step: feed stepScalars('adam', lr, t), `m`, `v`; read `params.next`, `m.next`, `v.next`
 */
import type { Graph, T } from './graph.ts';

export interface OptimizerSpec {
  kind: 'adam' | 'sgd';
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** Names of the optimizer's state inputs (each as long as the parameter vector). */
export function stateNames(kind: OptimizerSpec['kind']): string[] {
  return kind === 'adam' ? ['m', 'v'] : [];
}

/**
 * Adds the update of the flat parameter vector p [P] from its gradient [P] to g, with the
 * optimizer's state inputs and the outputs `params.next` (and `m.next`, `v.next`).
 * `decay`: a [P] 0/1 vector saying where weight decay applies (null: nowhere).
 */
export function addFlatUpdate(g: Graph, p: T, grad: T, decay: T | null, o: OptimizerSpec): void {
  const lr = g.input('lr', []);
  const wd = decay && o.weightDecay > 0 ? g.mul(decay, g.mul(lr, g.scalar(o.weightDecay))) : null; // lr wd per element
  if (o.kind === 'sgd') {
    let next = g.sub(p, g.mul(grad, lr));
    if (wd) next = g.sub(next, g.mul(p, wd));
    g.output(next, 'params.next');
    return;
  }
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  const lrT = g.input('lr_t', []);
  const epsT = g.input('eps_t', []);
  const m = g.input('m', p.shape);
  const v = g.input('v', p.shape);
  const m2 = g.add(g.mul(m, g.scalar(b1)), grad);
  const v2 = g.add(g.mul(v, g.scalar(b2)), g.square(grad));
  let next = g.sub(p, g.div(g.mul(m2, lrT), g.add(g.sqrt(v2), epsT)));
  if (wd) next = g.sub(next, g.mul(p, wd));
  g.output(next, 'params.next');
  g.output(m2, 'm.next');
  g.output(v2, 'v.next');
}

/** Step scalars for step t (1-based) at rate lr. */
export function stepScalars(kind: OptimizerSpec['kind'], lr: number, t: number, o: { beta1?: number; beta2?: number; eps?: number } = {}): Record<string, number> {
  if (kind === 'sgd') return { lr };
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  // sqrt(v'/(1-b2^t)) = sqrt(V') sqrt((1-b2)/(1-b2^t)); m' = (1-b1) M'.
  const s = Math.sqrt((1 - b2 ** t) / (1 - b2));
  return { lr, lr_t: (lr * (1 - b1) * s) / (1 - b1 ** t), eps_t: (o.eps ?? 1e-7) * s };
}
