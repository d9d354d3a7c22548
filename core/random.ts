/**
 * @file The kit's one source of randomness: a seeded PRNG (sfc32 seeded through splitmix32).
 * Library code never calls Math.random; a Random is passed down and forked per consumer so
 * that adding a consumer does not shift the stream of another.
 *
 * @example
 *   const rng = new Random(2025);
 *   rng.next(); rng.int(10); rng.normal(); rng.fork('folds').shuffle([1, 2, 3]);
 */

function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a hash of a string, for deriving sub-seeds from names. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

export class Random {
  readonly seed: number;
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    const sm = splitmix32(this.seed);
    this.a = sm();
    this.b = sm();
    this.c = sm();
    this.d = sm();
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** A new independent generator derived from this seed and a name. */
  fork(name: string | number): Random {
    return new Random((Math.imul(this.seed ^ 0x5bd1e995, 31) ^ hashString(String(name))) >>> 0);
  }

  nextU32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /**
   * The next n values of nextU32 into out (the same stream), with the state in int32 locals:
   * several times faster than n calls for bulk draws (dropout masks).
   */
  fillU32(out: Uint32Array, n = out.length): void {
    let a = this.a | 0;
    let b = this.b | 0;
    let c = this.c | 0;
    let d = this.d | 0;
    for (let i = 0; i < n; i++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      out[i] = t;
    }
    this.a = a >>> 0;
    this.b = b >>> 0;
    this.c = c >>> 0;
    this.d = d >>> 0;
  }

  /**
   * Fills `out` with out.length (<= n) distinct integers of [0, n), ascending (Knuth's selection
   * sampling: row i is taken when next() * (n - i) < still needed), drawing once per row looked
   * at: the same rows and stream as that loop over next(), drawn in bulk through fillU32 (gbdt
   * bagging draws hundreds of thousands of rows every round).
   */
  sampleSorted(n: number, out: Int32Array): void {
    const m = out.length;
    const buf = new Uint32Array(Math.max(1, Math.min(m, 4096)));
    let k = 0;
    let i = 0;
    while (i < n && k < m) {
      // At most one row is taken per draw, so at least m - k more rows are looked at: drawing
      // that many at once never takes a draw the loop would not have made.
      const c = Math.min(m - k, n - i, buf.length);
      this.fillU32(buf, c);
      for (let j = 0; j < c; j++, i++) if ((buf[j] / 4294967296) * (n - i) < m - k) out[k++] = i;
    }
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Fisher-Yates, in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }
}
