/**
 * @file `smp kinds <kind>`: a kind's params with their types, defaults and help, derived from
 * its zod schema (through zod's JSON Schema export, as pipelines/schema.json is), so the listing
 * never drifts from what the pipeline loader accepts.
 *
 * @example
 *   console.log(formatKind(models.get('gbdt'), 'learner'));
 */
import { z } from 'zod';

export interface ParamHelp {
  name: string;
  type: string;
  /** JSON text of the default; undefined when there is none. */
  default?: string;
  required: boolean;
  help: string;
}

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  required?: string[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  minLength?: number;
}

/** zod writes the safe-integer range for a plain .int(): not a bound worth printing. */
const bound = (v: number | undefined) => (v !== undefined && Math.abs(v) < Number.MAX_SAFE_INTEGER ? v : undefined);

/** A readable type from a JSON Schema node: "integer >= 1", "one of a, b", "array of string", "number | \"auto\"". */
export function typeText(s: JsonSchema): string {
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map(typeText).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return `one of ${s.enum.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`;
  if (Array.isArray(s.type)) return s.type.map((t) => typeText({ ...s, type: t })).join(' | ');
  if (s.type === 'array') {
    if (s.prefixItems) return `[${s.prefixItems.map(typeText).join(', ')}]`;
    return `array of ${s.items ? typeText(s.items) : 'any'}${s.minItems ? ` (at least ${s.minItems})` : ''}`;
  }
  if (s.type === 'object') return s.properties ? `object {${Object.keys(s.properties).join(', ')}}` : 'object';
  if (s.type === 'number' || s.type === 'integer') {
    const lo = bound(s.minimum) ?? bound(s.exclusiveMinimum);
    const hi = bound(s.maximum) ?? bound(s.exclusiveMaximum);
    const loOp = bound(s.minimum) !== undefined ? '>=' : '>';
    const hiOp = bound(s.maximum) !== undefined ? '<=' : '<';
    if (lo !== undefined && hi !== undefined) return `${s.type} ${loOp} ${lo} and ${hiOp} ${hi}`;
    if (lo !== undefined) return `${s.type} ${loOp} ${lo}`;
    if (hi !== undefined) return `${s.type} ${hiOp} ${hi}`;
    return s.type;
  }
  return s.type ?? 'any';
}

/** One entry per param of an object schema, in declaration order. */
export function paramHelp(schema: z.ZodType): ParamHelp[] {
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const required = new Set(js.required ?? []);
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    type: typeText(s),
    ...(s.default !== undefined ? { default: JSON.stringify(s.default) } : {}),
    required: required.has(name) && s.default === undefined,
    help: s.description ?? '',
  }));
}

/** Words of `text` in lines of at most `width` characters, each starting with `indent`. */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (cur && indent.length + cur.length + 1 + w.length > width) {
      lines.push(indent + cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(indent + cur);
  return lines;
}

export interface KindInfo {
  kind: string;
  summary: string;
  params: z.ZodType;
  labelAware?: boolean;
  importanceMethod?: string;
}

/** The help page of one kind: summary, then each param's type, default and help. */
export function formatKind(def: KindInfo, registry: 'feature' | 'learner', width = 100): string {
  const out = [`${def.kind} (${registry}${def.labelAware ? ', label-aware: fitted inside each fold' : ''})`, ...wrap(def.summary, width, '  ')];
  if (def.importanceMethod) out.push(...wrap(`importance: ${def.importanceMethod}`, width, '  '));
  const params = paramHelp(def.params);
  out.push('', params.length ? 'params:' : 'params: none');
  for (const p of params) {
    out.push(`  ${p.name}: ${p.type}; ${p.required ? 'required' : p.default !== undefined ? `default ${p.default}` : 'optional, no default'}`);
    out.push(...wrap(p.help, width, '      '));
  }
  return out.join('\n');
}
