/**
 * @file Optimizer updates as graph nodes, so one run of the training-step graph does forward,
 * backward and update. Parameters and optimizer state are graph inputs and come back as outputs
 * (`<name>.next`, `<name>.m.next`, `<name>.v.next`); the step-dependent scalars are inputs too:
 *
 *   - adam:  `lr` (the learning rate), `lr_c1` = lr / (1 - b1^t), `inv_c2` = 1 / (1 - b2^t);
 *            m' = b1 m + (1-b1) g, v' = b2 v + (1-b2) g^2,
 *            p' = p - lr_c1 m' / (sqrt(v' inv_c2) + eps) - lr wd p    (decoupled decay, AdamW)
 *   - sgd:   `lr`; p' = p - lr (g + wd p)
 *
 * @example
 *   addUpdate(g, params, grads, { kind: 'adam', weightDecay: 0 });
 *   // each step: feed stepScalars('adam', lr, t) and `<p>.m`, `<p>.v`; read `<p>.next`, `<p>.m.next`, ...
 */
import type { Graph, T } from './graph.ts';

export interface OptimizerSpec {
  kind: 'adam' | 'sgd';
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export interface TrainParam {
  /** The parameter's graph input (its name is the parameter's name). */
  t: T;
  /** Decoupled weight decay applies (dense kernels, embeddings). */
  decay: boolean;
}

/** Names of the optimizer's per-parameter state inputs. */
export function stateNames(kind: OptimizerSpec['kind'], name: string): string[] {
  return kind === 'adam' ? [`${name}.m`, `${name}.v`] : [];
}

/** Adds each parameter's update (and its state inputs and outputs) to g. */
export function addUpdate(g: Graph, params: TrainParam[], grads: T[], o: OptimizerSpec): void {
  const lr = g.input('lr', []);
  const decayed = (p: TrainParam, upd: T) => (p.decay && o.weightDecay > 0 ? g.add(upd, g.mul(p.t, g.scalar(o.weightDecay))) : upd);
  if (o.kind === 'sgd') {
    params.forEach((p, i) => g.output(g.sub(p.t, g.mul(lr, decayed(p, grads[i]))), `${p.t.name}.next`));
    return;
  }
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  const eps = o.eps ?? 1e-7;
  const lrC1 = g.input('lr_c1', []);
  const invC2 = g.input('inv_c2', []);
  params.forEach((p, i) => {
    const gr = grads[i];
    const [mName, vName] = stateNames('adam', p.t.name);
    const m = g.input(mName, p.t.shape);
    const v = g.input(vName, p.t.shape);
    const m2 = g.add(g.mul(m, g.scalar(b1)), g.mul(gr, g.scalar(1 - b1)));
    const v2 = g.add(g.mul(v, g.scalar(b2)), g.mul(g.square(gr), g.scalar(1 - b2)));
    const step = g.div(g.mul(m2, lrC1), g.add(g.sqrt(g.mul(v2, invC2)), g.scalar(eps)));
    let next = g.sub(p.t, step);
    if (p.decay && o.weightDecay > 0) next = g.sub(next, g.mul(p.t, g.mul(lr, g.scalar(o.weightDecay))));
    g.output(next, `${p.t.name}.next`);
    g.output(m2, `${mName}.next`);
    g.output(v2, `${vName}.next`);
  });
}

/** Step scalars for step t (1-based) at rate lr. */
export function stepScalars(kind: OptimizerSpec['kind'], lr: number, t: number, o: { beta1?: number; beta2?: number } = {}): Record<string, number> {
  if (kind === 'sgd') return { lr };
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  return { lr, lr_c1: lr / (1 - b1 ** t), inv_c2: 1 / (1 - b2 ** t) };
}
