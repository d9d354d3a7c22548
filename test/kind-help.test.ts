import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatKind, paramHelp, typeText } from '../core/kind-help.ts';
import { gbdtParams } from '../models/gbdt/params.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

describe('smp kinds <kind>', () => {
  it('prints gbdt: every param of its schema with type, default and help', () => {
    const out = execFileSync(process.execPath, ['bin/smp.js', 'kinds', 'gbdt'], { encoding: 'utf8', cwd: ROOT });
    const lines = out.split('\n');
    expect(lines[0]).toBe('gbdt (learner)');
    expect(out).toContain('importance: gain: total loss reduction of the splits on the column');
    // one header line per schema key, in schema order
    const names = lines.slice(lines.indexOf('params:') + 1).filter((l) => /^ {2}\w+: /.test(l)).map((l) => l.trim().split(':')[0]);
    expect(names).toEqual(Object.keys(gbdtParams.shape));
    expect(lines).toContain('  n_estimators: integer >= 1; default 100');
    expect(lines).toContain('  learning_rate: number > 0 and <= 1; default 0.1');
    expect(lines).toContain('  objective: one of l2, l1, huber, pseudo_huber, mape, binary; optional, no default');
    // the help is the schema's own description (wrapped)
    const flat = out.replace(/\s+/g, ' ');
    for (const [k, s] of Object.entries(gbdtParams.shape)) expect(flat, k).toContain((s as z.ZodType).description!.replace(/\s+/g, ' '));
  });

  it('names the valid kinds for an unknown one', () => {
    let err = '';
    try {
      execFileSync(process.execPath, ['bin/smp.js', 'kinds', 'gbtd'], { encoding: 'utf8', cwd: ROOT, stdio: 'pipe' });
    } catch (e) {
      err = String((e as { stderr: string }).stderr);
    }
    expect(err).toMatch(/unknown kind "gbtd"; feature kinds: .*time.*; learner kinds: .*gbdt.*ridge/);
  });

  it('derives types from the schema: unions, tuples, nullable, required', () => {
    const schema = z
      .object({
        path: z.string().describe('where'),
        scale: z.union([z.number().positive(), z.literal('auto')]).default(1),
        range: z.tuple([z.number(), z.number()]).default([0.9, 1.1]),
        tags: z.string().nullable().default('tags'),
        k: z.array(z.number().int().min(2).max(64)).min(1).default([16]),
      })
      .strict();
    const help = paramHelp(schema);
    expect(help.map((p) => [p.name, p.type, p.default, p.required])).toEqual([
      ['path', 'string', undefined, true],
      ['scale', 'number > 0 | "auto"', '1', false],
      ['range', '[number, number]', '[0.9,1.1]', false],
      ['tags', 'string | null', '"tags"', false],
      ['k', 'array of integer >= 2 and <= 64 (at least 1)', '[16]', false],
    ]);
    expect(typeText({ type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991 })).toBe('integer');
    expect(formatKind({ kind: 'x', summary: 'an example', params: schema }, 'feature')).toContain('  path: string; required\n      where');
  });
});
