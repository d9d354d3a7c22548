/**
 * @file TensorFlow.js loading and backend selection for the `mlp` learner.
 *
 * tfjs is loaded lazily (it costs about 2 s to import), through `require` so that a loaded
 * model can predict synchronously; ESM `import` of these packages resolves to the same CommonJS
 * instances, so tests and benches that `import '@tensorflow/tfjs'` see the same engine.
 *
 * Preference `auto` tries, in order:
 *   - `node`: `@tensorflow/tfjs-node` (native libtensorflow; an optional dependency, because its
 *     install downloads libtensorflow and fails offline);
 *   - `wasm`: `@tensorflow/tfjs-backend-wasm` (XNNPACK, SIMD, single-threaded in Node; its
 *     `.wasm` files are located with `setWasmPaths(<package>/dist/)` as a plain file path);
 *   - `cpu`: the plain JavaScript backend (about 3x slower than wasm).
 *
 * @example
 *   const name = await mlpBackend();        // 'wasm' here; 'tensorflow' when tfjs-node is installed
 *   await mlpBackend('cpu');                // force the JS backend
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { UserError } from '../../core/errors.ts';

export type Tf = typeof TF;
export type BackendPreference = 'auto' | 'node' | 'wasm' | 'cpu';

const require = createRequire(import.meta.url);

/** tfjs backend name for each preference (tfjs-node registers itself as 'tensorflow'). */
const TF_NAME: Record<Exclude<BackendPreference, 'auto'>, string> = { node: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

let tfModule: Tf | undefined;
/** Preference -> outcome of the one registration attempt for that backend in this process. */
const registered = new Map<Exclude<BackendPreference, 'auto'>, { ok: true } | { ok: false; why: string }>();

/** The tfjs module, loaded on first use (synchronous, so a loaded model predicts without await). */
export function tfSync(): Tf {
  if (!tfModule) tfModule = require('@tensorflow/tfjs') as Tf;
  return tfModule;
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

/** Registers the backend's factory with tfjs (once per process); does not initialise it. */
function register(kind: Exclude<BackendPreference, 'auto'>): { ok: true } | { ok: false; why: string } {
  const known = registered.get(kind);
  if (known) return known;
  const tf = tfSync();
  let outcome: { ok: true } | { ok: false; why: string };
  try {
    if (kind === 'node') {
      require('@tensorflow/tfjs-node');
      // A tfjs-node resolving its own nested copy of tfjs would register on another engine.
      outcome = tf.findBackendFactory('tensorflow')
        ? { ok: true }
        : { ok: false, why: '@tensorflow/tfjs-node loaded but registered on another copy of @tensorflow/tfjs (versions differ)' };
    } else if (kind === 'wasm') {
      const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
      const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
      wasm.setWasmPaths(dist);
      outcome = tf.findBackendFactory('wasm') ? { ok: true } : { ok: false, why: 'wasm backend did not register' };
    } else {
      outcome = tf.findBackendFactory('cpu') ? { ok: true } : { ok: false, why: 'cpu backend is not registered' };
    }
  } catch (e) {
    const code = (e as { code?: string }).code;
    outcome = { ok: false, why: code === 'MODULE_NOT_FOUND' ? 'not installed' : message(e) };
  }
  registered.set(kind, outcome);
  return outcome;
}

/** The JS backend greets Node users on first use; our log already names the backend. */
function quietCpu(tf: Tf): void {
  if (tf.getBackend() === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
}

async function activate(kind: Exclude<BackendPreference, 'auto'>): Promise<{ ok: true } | { ok: false; why: string }> {
  const reg = register(kind);
  if (!reg.ok) return reg;
  const tf = tfSync();
  const name = TF_NAME[kind];
  if (tf.getBackend?.() === name && tf.engine().backendName === name) return { ok: true };
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    return { ok: false, why: message(e) };
  }
  if (!ok) return { ok: false, why: 'initialisation failed' };
  quietCpu(tf);
  return { ok: true };
}

/**
 * Makes the preferred backend current and returns its tfjs name ('tensorflow', 'wasm' or 'cpu').
 * `auto` falls back node -> wasm -> cpu; an explicit choice that is unavailable is a UserError.
 * `log` receives one line naming the backend and why others were skipped.
 */
export async function mlpBackend(preference: BackendPreference = 'auto', log?: (line: string) => void): Promise<string> {
  const order: Exclude<BackendPreference, 'auto'>[] = preference === 'auto' ? ['node', 'wasm', 'cpu'] : [preference];
  const skipped: string[] = [];
  for (const kind of order) {
    const r = await activate(kind);
    if (r.ok) {
      const tf = tfSync();
      const name = tf.getBackend();
      const extra = name === 'wasm' ? ` (simd ${(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'on' : 'off'}, single-threaded)` : '';
      log?.(`mlp: tfjs backend ${name}${extra}${skipped.length ? `; skipped ${skipped.join('; ')}` : ''}`);
      return name;
    }
    skipped.push(`${kind}: ${r.why}`);
  }
  const hint =
    preference === 'node'
      ? ' (install it with `npm install @tensorflow/tfjs-node`; it downloads libtensorflow, so it needs network access)'
      : '';
  throw new UserError(`mlp: backend "${preference}" is not available: ${skipped.join('; ')}${hint}`);
}

/** The backends that can be initialised here, as preferences (for the bench). Leaves `auto`'s choice current. */
export async function availableMlpBackends(): Promise<Exclude<BackendPreference, 'auto'>[]> {
  const out: Exclude<BackendPreference, 'auto'>[] = [];
  for (const kind of ['node', 'wasm', 'cpu'] as const) if ((await activate(kind)).ok) out.push(kind);
  await mlpBackend('auto');
  return out;
}

/**
 * Makes sure some backend is ready for a synchronous call (a model loaded from JSON in a fresh
 * process): keeps the current one, else initialises cpu (synchronous). Call `await mlpBackend()`
 * first to predict on the fast backend.
 */
export function readyTf(): Tf {
  const tf = tfSync();
  if (tf.engine().backendName == null) {
    void tf.setBackend('cpu'); // cpu initialises synchronously; the promise is already settled in effect
    quietCpu(tf);
  }
  return tf;
}
