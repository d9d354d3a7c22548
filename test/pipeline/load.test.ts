import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipeline } from '../../core/pipeline/load.ts';
import { tmpDir, writeFile } from '../helpers.ts';

const BASE = `name: t
track: image
data:
  root: data
features:
  - id: meta
    kind: metadata
  - id: time
    kind: time
models:
  - id: ridge
    kind: ridge
    params:
      alpha: 1
`;

function load(text: string) {
  const dir = tmpDir('load');
  const file = writeFile(path.join(dir, 'p.yaml'), text);
  return () => loadPipeline(path.relative(process.cwd(), file));
}

describe('pipeline loading', () => {
  it('accepts a valid file and applies defaults', () => {
    const { pipeline } = load(BASE)();
    expect(pipeline.validation.folds).toBe(5);
    expect(pipeline.models[0].params).toMatchObject({ alpha: 1, max_levels: 50 });
    expect(pipeline.features[1].inputs).toEqual([]);
    expect(path.isAbsolute(pipeline.data.root)).toBe(true);
  });

  it('names file, line and column of a typo in a key, with a suggestion', () => {
    const bad = BASE.replace('      alpha: 1', '      alpah: 1');
    expect(load(bad)).toThrow(/p\.yaml:14:7 models\[0\]\.params\.alpah: unknown key \(did you mean "alpha"\?\)/);
  });

  it('lists the valid kinds for an unknown kind', () => {
    const bad = BASE.replace('kind: time', 'kind: tiem');
    expect(load(bad)).toThrow(/p\.yaml:9:11 features\[1\]\.kind: unknown feature kind "tiem" \(did you mean "time"\?\); valid kinds: .*metadata.*time/);
  });

  it('reports a value out of range at its position', () => {
    const bad = BASE + 'validation:\n  folds: 1\n';
    expect(load(bad)).toThrow(/p\.yaml:16:10 validation\.folds: expected >= 2 for kfold/);
  });

  it('reports a bad parameter type at its position', () => {
    const bad = BASE.replace('alpha: 1', 'alpha: lots');
    expect(load(bad)).toThrow(/p\.yaml:14:14 models\[0\]\.params\.alpha: expected number, received string/);
  });

  it('rejects duplicate ids and undefined inputs', () => {
    expect(load(BASE.replace('id: time', 'id: meta'))).toThrow(/features\[1\]\.id: duplicate id "meta"/);
    const withInput = BASE.replace('    kind: time', '    kind: time\n    inputs: [nothere]');
    expect(load(withInput)).toThrow(/p\.yaml:10:14 features\[1\]\.inputs\[0\]: "nothere" is not a feature defined above/);
  });

  it('rejects a model that names an unknown feature block', () => {
    const bad = BASE.replace('    kind: ridge', '    kind: ridge\n    features: [meta, tme]');
    expect(load(bad)).toThrow(/models\[0\]\.features\[1\]: unknown feature id "tme" \(did you mean "time"\?\)/);
  });

  it('reports invalid YAML with its position', () => {
    expect(load('name: [unclosed\n')).toThrow(/p\.yaml:\d+:\d+ invalid YAML/);
  });
});

describe('--set overrides', () => {
  it('overrides nested fields with YAML values before validation', () => {
    const dir = tmpDir('set');
    const file = writeFile(path.join(dir, 'p.yaml'), BASE);
    const { pipeline } = loadPipeline(file, { set: ['validation.scheme=time', 'models[0].params.alpha=2.5', 'data.optional=[text]'] });
    expect(pipeline.validation.scheme).toBe('time');
    expect(pipeline.models[0].params.alpha).toBe(2.5);
    expect(pipeline.data.optional).toEqual(['text']);
    expect(() => loadPipeline(file, { set: ['validation.scheme=sometimes'] })).toThrow(/validation\.scheme: Invalid option/);
    expect(() => loadPipeline(file, { set: ['novalue'] })).toThrow(/expected path=value/);
  });

  it('errors about a value written by --set name the argument, not a YAML line', () => {
    const file = writeFile(path.join(tmpDir('set-err'), 'p.yaml'), BASE + 'validation:\n  folds: 5\n');
    expect(() => loadPipeline(file, { set: ['validation.metrc=auc'] })).toThrow(/^--set validation\.metrc=auc validation\.metrc: unknown key \(did you mean "metric"\?\)$/);
    expect(() => loadPipeline(file, { set: ['models[0].params.alpha=x'] })).toThrow(/^--set models\[0\]\.params\.alpha=x models\[0\]\.params\.alpha: expected number/);
    expect(() => loadPipeline(file, { set: ['models[3].params.alpha=1'] })).toThrow(/^--set models\[3\]\.params\.alpha=1: models\[3\] does not exist \(models has 1 entry\)$/);
    expect(() => loadPipeline(file, { set: ['name.x=1'] })).toThrow(/^--set name\.x=1: name is not a mapping$/);
    // a file error still names the file when an unrelated field was set
    expect(() => loadPipeline(file, { set: ['validation.folds=1', 'validation.scheme=kfold'] })).toThrow(/^--set validation\.folds=1 validation\.folds: expected >= 2/);
  });
});

describe('task cross-checks', () => {
  const file = () => writeFile(path.join(tmpDir('task'), 'p.yaml'), BASE + 'validation:\n  metric: src\n');
  it('validation.metric must fit the task, named at its line or its --set argument', () => {
    expect(() => loadPipeline(file(), { set: ['validation.metric=auc'] })).toThrow(/^--set validation\.metric=auc validation\.metric: "auc" does not fit task: regression; use one of src, mae, mape, rmse$/);
    expect(() => loadPipeline(file(), { set: ['task=binary'] })).toThrow(/p\.yaml:16:11 validation\.metric: "src" does not fit task: binary \(from --set task=binary\); use one of auc, accuracy/);
  });

  it('--set task=binary on a regression learner objective is a clear error, not a crash in training', () => {
    const text = BASE.replace('    kind: ridge\n    params:\n      alpha: 1\n', '    kind: gbdt\n    params:\n      objective: l2\n');
    const f = writeFile(path.join(tmpDir('task-obj'), 'p.yaml'), text);
    expect(() => loadPipeline(f, { set: ['task=binary'] })).toThrow(/p\.yaml:14:18 models\[0\]\.params\.objective: objective l2 is a regression loss and task: binary \(from --set task=binary\)/);
    expect(loadPipeline(f, { set: ['task=binary', 'models[0].params.objective=binary'] }).pipeline.task).toBe('binary');
    expect(() => loadPipeline(f, { set: ['labels.binarize={threshold: 3}'] })).toThrow(/labels\.binarize: binarize makes 0\/1 labels for task: binary/);
  });

  it('stacker raw features: learner stackers only, label-free blocks only', () => {
    const text = BASE + '  - id: r2\n    kind: ridge\nensemble:\n  method: stack\n  stacker:\n    kind: nnls\n    raw_features: [meta]\n';
    const f = writeFile(path.join(tmpDir('raw'), 'p.yaml'), text);
    expect(() => loadPipeline(f)).toThrow(/p\.yaml:\d+:\d+ ensemble\.stacker\.raw_features: the nnls stacker weighs the models' OOF predictions only/);
    const withStats = text.replace('    kind: time\n', '    kind: time\n  - id: stats\n    kind: user-label-stats\n');
    const f2 = writeFile(path.join(tmpDir('raw2'), 'p.yaml'), withStats);
    expect(() => loadPipeline(f2, { set: ['ensemble.stacker.kind=gbdt', 'ensemble.stacker.raw_features=[meta, stats]'] })).toThrow(
      /raw_features\[1\]: "stats" \(user-label-stats\) is label-aware/,
    );
    expect(loadPipeline(f2, { set: ['ensemble.stacker.kind=gbdt'] }).pipeline.ensemble.stacker.raw_features).toEqual(['meta']);
  });
});
