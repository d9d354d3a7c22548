/**
 * @file Shards of the per-row work (`smp run --shard i/N`): shard i of N computes the rows
 * [floor(i n / N), floor((i + 1) n / N)) of every per-row kind (embeddings, image statistics)
 * into the row cache and stops; a plain run afterwards finds every row there. The index and
 * count come from the option, or from the scheduler's environment with `--shard auto`:
 * Slurm job arrays (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT) or,
 * with `--shard auto/N`, a Kubernetes Indexed Job (JOB_COMPLETION_INDEX; the count is the
 * Job's `completions`, which Kubernetes does not pass to the pod).
 *
 * @example
 *   parseShard('1/4');                                   // { index: 1, count: 4 }
 *   parseShard('auto', { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '4' }); // { index: 2, count: 4 }
 *   parseShard('auto/8', { JOB_COMPLETION_INDEX: '5' }); // { index: 5, count: 8 }
 *   shardRows(10, { index: 1, count: 3 });               // [3, 6]
 */
import { UserError } from '../errors.ts';

export interface Shard {
  index: number;
  count: number;
}

function nonNegative(v: string | undefined, what: string): number {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isInteger(n) || n < 0) throw new UserError(`--shard: ${what} is ${v === undefined ? 'not set' : `"${v}", not a non-negative integer`}`);
  return n;
}

function checked(index: number, count: number, from: string): Shard {
  if (count < 1) throw new UserError(`--shard: the shard count must be at least 1 (${from})`);
  if (index >= count) throw new UserError(`--shard: index ${index} is not below the count ${count} (${from}); indices run 0..${count - 1}`);
  return { index, count };
}

/** Shard i of N from `i/N`, `auto` (Slurm array) or `auto/N` (Slurm array or Kubernetes Indexed Job). */
export function parseShard(spec: string, env: NodeJS.ProcessEnv = process.env): Shard {
  const s = spec.trim();
  const explicit = /^(\d+)\/(\d+)$/.exec(s);
  if (explicit) return checked(Number(explicit[1]), Number(explicit[2]), `--shard ${s}`);
  const auto = /^auto(?:\/(\d+))?$/.exec(s);
  if (!auto) throw new UserError(`--shard: expected i/N (e.g. 0/4), auto (Slurm array) or auto/N (Kubernetes Indexed Job, N = completions), got "${spec}"`);
  const slurmMin = env.SLURM_ARRAY_TASK_MIN === undefined ? 0 : nonNegative(env.SLURM_ARRAY_TASK_MIN, 'SLURM_ARRAY_TASK_MIN');
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const index = nonNegative(env.SLURM_ARRAY_TASK_ID, 'SLURM_ARRAY_TASK_ID') - slurmMin;
    const count = auto[1] !== undefined ? Number(auto[1]) : nonNegative(env.SLURM_ARRAY_TASK_COUNT, 'SLURM_ARRAY_TASK_COUNT (a Slurm job array sets it; or pass --shard auto/N)');
    return checked(index, count, `SLURM_ARRAY_TASK_ID ${env.SLURM_ARRAY_TASK_ID}${slurmMin ? ` - SLURM_ARRAY_TASK_MIN ${slurmMin}` : ''}`);
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    if (auto[1] === undefined) throw new UserError('--shard auto: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but the pod is not told the count; pass --shard auto/N with N = the Job\'s completions');
    return checked(nonNegative(env.JOB_COMPLETION_INDEX, 'JOB_COMPLETION_INDEX'), Number(auto[1]), `JOB_COMPLETION_INDEX ${env.JOB_COMPLETION_INDEX}`);
  }
  throw new UserError(`--shard ${s}: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; pass --shard i/N`);
}

/** The rows [lo, hi) of shard `s` of n rows: contiguous, sizes differ by at most one. */
export function shardRows(n: number, s: Shard): [number, number] {
  return [Math.floor((s.index * n) / s.count), Math.floor(((s.index + 1) * n) / s.count)];
}

export function shardLabel(s: Shard): string {
  return `${s.index}/${s.count}`;
}
