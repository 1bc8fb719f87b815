// Seeded randomness: every random choice in featurelab takes a seed, and the same seed gives the
// same numbers on every backend (values are drawn here, in JavaScript, not by the backend).

/**
 * A small, fast, seedable generator (SplitMix32 seeding → xoshiro128**).
 * @example
 * const rng = new fl.Rng(0);
 * rng.uniform();
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /**
   * Uniform 32-bit unsigned integer.
   * @example
   * rng.uint32();
   */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * Uniform in [0, 1).
   * @example
   * rng.uniform();
   */
  uniform(): number {
    return this.uint32() / 4294967296;
  }

  /**
   * Uniform integer in [0, n).
   * @example
   * rng.int(10);                               // 0…9
   */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /**
   * Standard normal (Box–Muller, both values used).
   * @example
   * rng.normal();
   */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * A Float32Array of standard normals.
   * @example
   * const noise = rng.normals(1024);
   */
  normals(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }

  /**
   * A random permutation of 0..n-1 (Fisher–Yates).
   * @example
   * const order = rng.permutation(acts.numRows);
   */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
