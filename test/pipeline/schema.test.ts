import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipelineJsonSchema } from '../../core/pipeline/json-schema.ts';
import { loadPipeline } from '../../core/pipeline/load.ts';
import { features } from '../../features/index.ts';
import { models } from '../../models/index.ts';
import { REPO } from '../helpers.ts';

describe('pipelines/', () => {
  it('schema.json is up to date (run `npx smp schema` after changing a kind)', () => {
    const committed = JSON.parse(fs.readFileSync(path.join(REPO, 'pipelines', 'schema.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(pipelineJsonSchema())));
  });

  it('every bundled pipeline validates', () => {
    const files = fs.readdirSync(path.join(REPO, 'pipelines')).filter((f) => f.endsWith('.yaml'));
    expect(files).toContain('demo.yaml');
    for (const f of files) expect(() => loadPipeline(path.join(REPO, 'pipelines', f)), f).not.toThrow();
  });

  it('every kind documents each parameter', () => {
    for (const def of [...features.all(), ...models.all()]) {
      const shape = (def.params as unknown as { shape?: Record<string, { description?: string }> }).shape ?? {};
      for (const [name, field] of Object.entries(shape)) expect(field.description, `${def.kind}.${name}`).toBeTruthy();
    }
  });
});
