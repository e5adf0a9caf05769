/**
 * Deterministic test inputs: a generator of Float32Arrays in [-1, 1) from a linear congruential sequence
 * started at seed, each call continuing where the last one stopped.
 */
export function seededFloats(seed: number): (n: number) => Float32Array {
  let state = seed;
  return (n) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      state = (state * 1103515245 + 12345) >>> 0;
      out[i] = state / 2 ** 31 - 1;
    }
    return out;
  };
}
