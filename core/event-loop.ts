/**
 * @file Long synchronous loops (boosting rounds, training steps, forest trees) hold the event
 * loop, so Ctrl-C and SIGTERM would wait for the whole fit. `pauser()` gives a loop a cheap
 * check to call every step: at most every `ms` milliseconds it returns a promise that resolves
 * after pending events (signal handlers, timers) ran; otherwise null, so no step pays for an
 * await. Yielding changes nothing that is computed.
 *
 * @example
 *   const pause = pauser();
 *   for (let it = 0; it < rounds; it++) {
 *     step();
 *     const p = pause();
 *     if (p) await p;
 *   }
 */
export function pauser(ms = 200): () => Promise<void> | null {
  let last = Date.now();
  return () => {
    const now = Date.now();
    if (now - last < ms) return null;
    last = now;
    return new Promise<void>((resolve) => setImmediate(resolve));
  };
}
