/**
 * @file A frozen kind -> definition map. Duplicate kinds throw at start-up; an unknown kind
 * fails listing the valid ones.
 *
 * @example
 *   const learners = createRegistry('learner', [ridge, gbdt]);
 *   learners.get('ridge');
 */
import { UserError } from './errors.ts';

export interface Registry<T extends { kind: string }> {
  readonly label: string;
  readonly kinds: readonly string[];
  has(kind: string): boolean;
  get(kind: string): T;
  all(): readonly T[];
}

export function createRegistry<T extends { kind: string }>(label: string, defs: readonly T[]): Registry<T> {
  const map = new Map<string, T>();
  for (const d of defs) {
    if (map.has(d.kind)) throw new Error(`${label} kind "${d.kind}" is registered twice`);
    map.set(d.kind, d);
  }
  const kinds = Object.freeze([...map.keys()].sort());
  return Object.freeze({
    label,
    kinds,
    has: (kind: string) => map.has(kind),
    get(kind: string): T {
      const d = map.get(kind);
      if (!d) throw new UserError(`unknown ${label} kind "${kind}"; valid kinds: ${kinds.join(', ')}`);
      return d;
    },
    all: () => [...map.values()],
  });
}
