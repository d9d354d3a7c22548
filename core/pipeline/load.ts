/**
 * @file Reads a pipeline YAML file: parse, validate with zod, then small named cross-checks.
 * Every error names the file, line and column of the offending node:
 *   pipelines/x.yaml:7:12 models[1].params.num_leaves: expected >= 2
 *
 * @example
 *   const { pipeline } = loadPipeline('pipelines/demo.yaml');
 */
import fs from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, isScalar, LineCounter, parse as parseYaml, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { UserError } from '../errors.ts';
import { features } from '../../features/index.ts';
import { models } from '../../models/index.ts';
import { buildPipelineSchema, TASK_METRICS, type Pipeline } from './schema.ts';

export type PathKey = string | number;

export interface LoadedPipeline {
  pipeline: Pipeline;
  file: string;
  /** "file:line:col" of a path in the document (nearest existing node). */
  locate(p: readonly PathKey[]): string;
}

let cachedSchema: ReturnType<typeof buildPipelineSchema> | null = null;
export function pipelineSchema() {
  cachedSchema ??= buildPipelineSchema(features, models);
  return cachedSchema;
}

export function formatPath(p: readonly PathKey[]): string {
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('') || '(top level)';
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** "did you mean" hint for a mistyped key or kind. */
export function suggest(word: string, candidates: readonly string[]): string {
  let best = '';
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(word, c);
    if (dist < bestD) [best, bestD] = [c, dist];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

/** A `--set` override: the argument as typed and the path it writes. */
interface SetArg {
  arg: string;
  keys: PathKey[];
}

function makeLocator(file: string, doc: Document, lc: LineCounter, sets: readonly SetArg[] = []) {
  const at = (offset: number) => {
    const { line, col } = lc.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  return (p: readonly PathKey[], key?: string): string => {
    // A value written by --set has no YAML line: name the argument (the last one wins, as applied).
    const full = key === undefined ? p : [...p, key];
    const set = [...sets].reverse().find((s) => s.keys.every((k, i) => k === full[i]));
    if (set) return `--set ${set.arg}`;
    // Walk down as far as the path exists; point at a key when one is named.
    let node: unknown = doc.contents;
    for (const k of p) {
      const next = isMap(node) || isSeq(node) ? (node.get(k, true) as unknown) : undefined;
      if (next === undefined) break;
      node = next;
    }
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && it.key.value === key);
      const kn = pair?.key as Node | undefined;
      if (kn?.range) return at(kn.range[0]);
    }
    const range = (node as Node | undefined)?.range;
    return range ? at(range[0]) : `${file}:1:1`;
  };
}

function allowedKeys(schema: z.ZodType, p: readonly PathKey[], data: unknown): string[] {
  // Best effort: the shape of the object schema at path p (through arrays and kind unions).
  let s: any = schema;
  let d: any = data;
  for (const k of p) {
    while (s?.def?.innerType) s = s.def.innerType;
    if (typeof k === 'number') {
      s = s?.def?.element;
      d = d?.[k];
      while (s?.def?.innerType) s = s.def.innerType;
      if (s?.def?.type === 'union') s = s.def.options.find((o: any) => o.shape?.kind?.def?.values?.includes(d?.kind)) ?? s;
    } else {
      s = s?.shape?.[k];
      d = d?.[k];
    }
  }
  while (s?.def?.innerType) s = s.def.innerType;
  return s?.shape ? Object.keys(s.shape) : [];
}

/**
 * Applies `--set a.b[0].c=value` overrides (values parsed as YAML) to the raw document. A
 * missing mapping on the way is created (the schema then rejects unknown keys, naming the
 * argument); a list index must exist, as a list entry cannot be made up from one field.
 */
export function applySets(raw: Record<string, unknown>, sets: readonly string[]): SetArg[] {
  return sets.map((set) => {
    const eq = set.indexOf('=');
    if (eq <= 0) throw new UserError(`--set ${set}: expected path=value, e.g. validation.scheme=time`);
    const keys = set
      .slice(0, eq)
      .split(/\.|\[(\d+)\]/)
      .filter((k) => k !== undefined && k !== '')
      .map((k): PathKey => (/^\d+$/.test(k) ? Number(k) : k));
    let node: any = raw;
    keys.forEach((k, i) => {
      const at = formatPath(keys.slice(0, i + 1));
      if (typeof k === 'number' && !Array.isArray(node)) throw new UserError(`--set ${set}: ${formatPath(keys.slice(0, i)) || 'the pipeline'} is not a list`);
      if (typeof k === 'string' && (Array.isArray(node) || typeof node !== 'object' || node === null))
        throw new UserError(`--set ${set}: ${formatPath(keys.slice(0, i))} is not a mapping`);
      if (typeof k === 'number' && k >= node.length)
        throw new UserError(`--set ${set}: ${at} does not exist (${formatPath(keys.slice(0, i))} has ${node.length} entr${node.length === 1 ? 'y' : 'ies'})`);
      if (i === keys.length - 1) node[k] = parseYaml(set.slice(eq + 1));
      else {
        if (node[k] === undefined || node[k] === null) node[k] = {};
        node = node[k];
      }
    });
    return { arg: set, keys };
  });
}

export function loadPipeline(file: string, overrides: { data?: string; seed?: number; set?: readonly string[] } = {}): LoadedPipeline {
  if (!fs.existsSync(file)) throw new UserError(`pipeline file not found: ${file}`);
  const text = fs.readFileSync(file, 'utf8');
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const rel = path.relative(process.cwd(), file) || file;
  if (doc.errors.length) {
    const e = doc.errors[0];
    const { line, col } = lc.linePos(e.pos[0]);
    throw new UserError(`${rel}:${line}:${col} invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const raw = doc.toJS() as Record<string, unknown>;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${rel}:1:1 a pipeline file is a YAML mapping`);
  const sets = overrides.set?.length ? applySets(raw, overrides.set) : [];
  const locate = makeLocator(rel, doc, lc, sets);

  // Unknown kinds first: the union error alone would not list the valid kinds.
  for (const [section, registry] of [['features', features], ['models', models]] as const) {
    const entries = raw[section];
    if (!Array.isArray(entries)) continue;
    entries.forEach((entry: any, i: number) => {
      if (entry && typeof entry.kind === 'string' && !registry.has(entry.kind)) {
        throw new UserError(
          `${locate([section, i, 'kind'])} ${section}[${i}].kind: unknown ${registry.label} kind "${entry.kind}"${suggest(entry.kind, registry.kinds)}; valid kinds: ${registry.kinds.join(', ')}`,
        );
      }
    });
  }

  const schema = pipelineSchema();
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.slice(0, 5).map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        const key = issue.keys[0];
        const hint = suggest(key, allowedKeys(schema, issue.path as PathKey[], raw));
        return `${locate(issue.path as PathKey[], key)} ${formatPath([...(issue.path as PathKey[]), key])}: unknown key${hint}`;
      }
      return `${locate(issue.path as PathKey[])} ${formatPath(issue.path as PathKey[])}: ${issue.message.replace(/^Invalid input: /, '')}`;
    });
    throw new UserError(lines.join('\n'));
  }
  const pipeline = parsed.data as unknown as Pipeline;
  pipeline.name ||= path.basename(file).replace(/\.ya?ml$/, '');
  if (overrides.seed !== undefined) pipeline.seed = overrides.seed;
  // data.root is relative to the pipeline file; --data is relative to the working directory.
  pipeline.data.root = overrides.data ? path.resolve(overrides.data) : path.resolve(path.dirname(file), pipeline.data.root);
  if (pipeline.models_dir) pipeline.models_dir = path.resolve(path.dirname(file), pipeline.models_dir);
  crossCheck(pipeline, locate);
  return { pipeline, file: rel, locate };
}

/** Checks no single field can express; each names the node it complains about. */
function crossCheck(p: Pipeline, locate: (p: readonly PathKey[]) => string): void {
  const fail = (at: PathKey[], msg: string): never => {
    throw new UserError(`${locate(at)} ${formatPath(at)}: ${msg}`);
  };
  const seen = new Map<string, string>();
  const featureIds: string[] = [];
  p.features.forEach((f, i) => {
    if (seen.has(f.id)) fail(['features', i, 'id'], `duplicate id "${f.id}" (also ${seen.get(f.id)})`);
    seen.set(f.id, `features[${i}]`);
    f.inputs.forEach((input, j) => {
      if (!featureIds.includes(input))
        fail(['features', i, 'inputs', j], `"${input}" is not a feature defined above this one${suggest(input, featureIds)}`);
    });
    featureIds.push(f.id);
  });
  p.models.forEach((m, i) => {
    if (seen.has(m.id)) fail(['models', i, 'id'], `duplicate id "${m.id}" (also ${seen.get(m.id)})`);
    seen.set(m.id, `models[${i}]`);
    m.features?.forEach((fid, j) => {
      if (!featureIds.includes(fid)) fail(['models', i, 'features', j], `unknown feature id "${fid}"${suggest(fid, featureIds)}; defined: ${featureIds.join(', ')}`);
    });
  });
  const e = p.ensemble;
  if (e.stacker.kind !== 'nnls' && !models.has(e.stacker.kind))
    fail(['ensemble', 'stacker', 'kind'], `unknown stacker "${e.stacker.kind}"; use nnls or a learner kind: ${models.kinds.join(', ')}`);
  e.stacker.raw_features.forEach((fid, j) => {
    if (!featureIds.includes(fid)) fail(['ensemble', 'stacker', 'raw_features', j], `unknown feature id "${fid}"${suggest(fid, featureIds)}`);
  });
  let below = p.models.map((m) => m.id);
  e.levels.forEach((level, li) => {
    const next: string[] = [];
    const used = new Set<string>();
    for (const [gid, members] of Object.entries(level)) {
      members.forEach((mid, j) => {
        if (!below.includes(mid)) fail(['ensemble', 'levels', li, gid, j], `"${mid}" is not an output of the level below${suggest(mid, below)}; available: ${below.join(', ')}`);
        used.add(mid);
      });
      next.push(gid);
    }
    below = [...next, ...below.filter((b) => !used.has(b))];
  });
  const d = p.data;
  if (p.track === 'table') {
    if (d.id === undefined) fail(['data'], 'track: table needs data.id, the id column');
    if (d.label === undefined) fail(['data'], 'track: table needs data.label, the label column');
    if (Array.isArray(d.label)) {
      d.label.forEach((c, j) => {
        if (d.label!.indexOf(c) !== j) fail(['data', 'label', j], `"${c}" is listed twice`);
        if (c === d.id || c === d.split || c === d.time || c === d.group) fail(['data', 'label', j], `"${c}" is also the id, split, time or group column`);
      });
    }
    if (d.optional.length) fail(['data', 'optional'], 'file groups are for the image and video tracks; a table names its columns (data.columns)');
  } else {
    for (const key of ['id', 'label', 'split', 'time', 'group', 'columns'] as const)
      if (d[key] !== undefined) fail(['data', key], `data.${key} is for track: table; the ${p.track} track's layout fixes its columns`);
  }
  const v = p.validation;
  if (v.scheme !== 'time' && v.scheme !== 'holdout' && v.folds < 2) fail(['validation', 'folds'], `expected >= 2 for ${v.scheme}`);
  checkTask(p, locate, fail);
  const raw = e.stacker.raw_features;
  if (raw.length && e.method !== 'stack') fail(['ensemble', 'stacker', 'raw_features'], `only method: stack reads raw features (method is ${e.method}); remove them or use method: stack with a learner stacker`);
  if (raw.length && e.stacker.kind === 'nnls')
    fail(['ensemble', 'stacker', 'raw_features'], `the nnls stacker weighs the models' OOF predictions only and cannot use raw features; use a learner stacker (kind: ${models.kinds.includes('gbdt') ? 'gbdt' : models.kinds[0]}) or remove them`);
  raw.forEach((fid, j) => {
    const f = p.features.find((x) => x.id === fid)!;
    if (features.get(f.kind).labelAware)
      fail(['ensemble', 'stacker', 'raw_features', j], `"${fid}" (${f.kind}) is label-aware (fitted inside each fold); a stacker's raw features must be label-free blocks`);
  });
}

/** The task decides which metrics, objectives and label options make sense. */
function checkTask(p: Pipeline, locate: (p: readonly PathKey[]) => string, fail: (at: PathKey[], msg: string) => never): void {
  const where = locate(['task']);
  const task = `task: ${p.task}${where.startsWith('--set') ? ` (from ${where})` : ''}`;
  const metric = p.validation.metric;
  if (metric && !(TASK_METRICS[p.task] as readonly string[]).includes(metric))
    fail(['validation', 'metric'], `"${metric}" does not fit ${task}; use one of ${TASK_METRICS[p.task].join(', ')}`);
  // A learner's own objective (gbdt) must match the task; leaving it out picks the task's default.
  const objectives: [PathKey[], unknown][] = [
    ...p.models.map((m, i): [PathKey[], unknown] => [['models', i, 'params', 'objective'], m.params.objective]),
    [['ensemble', 'stacker', 'params', 'objective'], p.ensemble.stacker.params.objective],
  ];
  for (const [at, obj] of objectives) {
    if (obj === undefined) continue;
    if (p.task === 'binary' && obj !== 'binary') fail(at, `objective ${String(obj)} is a regression loss and ${task}; use objective: binary or leave it out`);
    if (p.task === 'regression' && obj === 'binary') fail(at, `objective binary needs task: binary (${task})`);
  }
  const l = p.labels;
  if (p.task === 'regression' && l.binarize) fail(['labels', 'binarize'], `binarize makes 0/1 labels for task: binary; ${task}`);
  if (p.task === 'binary') {
    if (l.transform !== 'none') fail(['labels', 'transform'], `a transform of 0/1 labels makes no sense with ${task}; use none`);
    if (l.outliers !== 'keep') fail(['labels', 'outliers'], `the IQR filter would drop a rare class with ${task}; use keep`);
    p.models.forEach((m, i) => {
      if (m.transform && m.transform !== 'none') fail(['models', i, 'transform'], `a transform of 0/1 labels makes no sense with ${task}; use none`);
    });
  }
}
