/**
 * @file Writes pipelines/schema.json from the zod pipeline schema, so editors (YAML language
 * server: `# yaml-language-server: $schema=./schema.json`) complete and check pipeline files.
 */
import { z } from 'zod';
import { writeFileAtomic } from '../cache/atomic.ts';
import { pipelineSchema } from './load.ts';

export function pipelineJsonSchema(): unknown {
  return z.toJSONSchema(pipelineSchema(), { io: 'input', unrepresentable: 'any' });
}

export function writeSchema(file: string): void {
  writeFileAtomic(file, JSON.stringify(pipelineJsonSchema(), null, 2) + '\n');
}
