/**
 * @file Plain-JS bootstrap of the histogram worker: registers tsx's TypeScript loader inside
 * the worker thread (hooks of the parent are not inherited by workers on Node 20), then loads
 * worker.ts. Works the same under `node --import tsx` and under vitest.
 */
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
