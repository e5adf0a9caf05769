/**
 * The Friendster-like graph model, streamed in output order. Chung-Lu: node i has a Pareto(1.3)
 * weight w_i (the Chung-Lu model) and an edge picks both ends with probability ∝ w.
 * Instead of drawing all m pairs and sorting them (O(edges) memory), node i draws how many of its
 * edges go to higher nodes (Poisson with mean 2·m·p_i·P(j > i)) and then those ends from the suffix
 * distribution; its list is sorted and deduplicated, so output is sorted by node1 with node1 < node2
 * and memory is O(nodes) (one cumulative weight per node), whatever the edge count.
 * Sparse ids are a strictly increasing function of the dense index (stride + jitter < stride).
 */

/** Small fast seeded PRNG (sfc32); `next53` gives uniform doubles in [0, 1) with 53 random bits. */
class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.next32();
  }
  next32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  next53(): number {
    return ((this.next32() >>> 5) * 67108864 + (this.next32() >>> 6)) / 9007199254740992;
  }
}

/** Largest sparse id, as Friendster's. */
const MAX_ID = 124_836_180;

export interface GraphModel {
  nodes: number;
  /** Sparse id of dense node i. */
  id(i: number): number;
  /** Cumulative weights: cum[i] = w_0 + ... + w_i (normalised so cum[n-1] = 1). */
  cum: Float64Array;
  edgesTarget: number;
}

export function makeGraphModel(edges: number, seed: number): GraphModel {
  const nodes = Math.max(1000, Math.floor(edges / 6));
  const rng = new Sfc32(seed);
  const cum = new Float64Array(nodes);
  let s = 0;
  for (let i = 0; i < nodes; i++) {
    s += (1 - rng.next53()) ** (-1 / 1.3);
    cum[i] = s;
  }
  for (let i = 0; i < nodes; i++) cum[i] /= s;
  const stride = Math.max(1, Math.floor(MAX_ID / nodes));
  const jitterSeed = seed * 2654435761;
  const id = (i: number): number => {
    // Integer hash of i for the jitter, so ids need no table.
    let h = Math.imul(i ^ jitterSeed, 0x45d9f3b);
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    h ^= h >>> 16;
    return 101 + i * stride + ((h >>> 0) % stride);
  };
  return { nodes, id, cum, edgesTarget: edges };
}

function poisson(rng: Sfc32, lambda: number): number {
  if (lambda < 30) {
    const l = Math.exp(-lambda);
    let k = 0;
    let p = rng.next53();
    while (p > l) {
      k++;
      p *= rng.next53();
    }
    return k;
  }
  // Normal approximation (Box-Muller); only heavy nodes get here.
  const u = Math.max(rng.next53(), 1e-300);
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next53());
  return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
}

/** First index j in [lo, hi) with cum[j] > u (cum is increasing). */
function search(cum: Float64Array, u: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Calls `emit(i, targets, count)` for each node i in order with its sorted, distinct higher neighbours
 * (dense indices in targets[0..count)). `targets` is reused between calls.
 */
export function generateEdges(
  model: GraphModel,
  seed: number,
  emit: (i: number, targets: Float64Array, count: number) => void,
): void {
  const { nodes, cum } = model;
  const rng = new Sfc32(seed ^ 0x5bd1e995);
  let targets = new Float64Array(1024);
  // Duplicate pairs are dropped, so draw a little more than asked to land near the target count.
  const m2 = 2 * model.edgesTarget * 1.06;
  for (let i = 0; i < nodes - 1; i++) {
    const below = cum[i];
    const pi = i === 0 ? cum[0] : cum[i] - cum[i - 1];
    const above = 1 - below;
    const k = Math.min(nodes - 1 - i, poisson(rng, m2 * pi * above));
    if (k === 0) continue;
    if (targets.length < k) targets = new Float64Array(k * 2);
    for (let e = 0; e < k; e++) {
      const u = below + rng.next53() * above;
      targets[e] = Math.min(nodes - 1, Math.max(i + 1, search(cum, u, i + 1, nodes)));
    }
    const sorted = targets.subarray(0, k).sort();
    let n = 1;
    for (let e = 1; e < k; e++) if (sorted[e] !== sorted[n - 1]) sorted[n++] = sorted[e];
    emit(i, targets, n);
  }
}
