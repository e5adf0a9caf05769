import t from 'tap';
import { ChebyshevWeights, chebyshevUpdate } from '../experiments/pagerank/kernels/chebyshev.js';
import { buildCsr, rowCounts } from '../experiments/pagerank/kernels/csr.js';
import { IdIndex, ownerOf } from '../experiments/pagerank/kernels/id-index.js';
import { ScoreSum } from '../experiments/pagerank/kernels/score-sum.js';
import { accumulateRows, segmentRows, wholeRows } from '../experiments/pagerank/kernels/segmented-rows.js';
import { mergeTop, topK } from '../experiments/pagerank/kernels/top-k.js';
import { torchPageRank } from '../experiments/pagerank/kernels/torch-ppr.js';
import { degreeOrder } from '../experiments/pagerank/setup/degree-order.js';
import { indexLocalEdges, localDegrees } from '../experiments/pagerank/setup/local-edges.js';
import { csrOfRows } from '../experiments/pagerank/setup/owned-rows.js';
import { labelRows, ownerOfRow } from '../experiments/pagerank/setup/row-blocks.js';

t.test('IdIndex numbers ids in first-seen order and survives growth', async (t) => {
  const idx = new IdIndex(4);
  const ids = [124_836_180, 7, 2 ** 52 + 1, -3, 0, 7, 124_836_180];
  t.same(
    ids.map((id) => idx.insert(id)),
    [0, 1, 2, 3, 4, 1, 0],
  );
  for (let i = 0; i < 100_000; i++) idx.insert(1000 + i * 977);
  t.equal(idx.size, 100_005);
  t.equal(idx.get(1000 + 99_999 * 977), 100_004);
  t.equal(idx.get(2 ** 52 + 1), 2);
  t.equal(idx.get(2 ** 52), -1, 'a neighbouring large id is a different key');
  t.equal(idx.get(8), -1);
  t.same(Array.from(idx.ids.subarray(0, 5)), [124_836_180, 7, 2 ** 52 + 1, -3, 0]);
});

t.test('ownerOf spreads ids over ranks and is stable', async (t) => {
  const counts = [0, 0, 0];
  for (let i = 0; i < 30_000; i++) counts[ownerOf(i * 41 + 5, 3)]++;
  for (const c of counts) t.ok(c > 9000 && c < 11000, `balanced: ${counts}`);
  t.equal(ownerOf(12345, 3), ownerOf(12345, 3));
  t.equal(ownerOf(12345, 1), 0);
});

t.test('CSR counts each edge both ways, a self-loop twice', async (t) => {
  // Edges 0-1, 0-2, 2-2 (self-loop), 1-0 (a duplicate in the other direction).
  const csr = buildCsr(Int32Array.of(0, 1, 0, 2, 2, 2, 1, 0), 4);
  t.same(Array.from(rowCounts(csr)), [3, 2, 3, 0]);
  const y = new Float64Array(4).fill(0.5);
  accumulateRows(segmentRows(csr), Float64Array.of(1, 10, 100, 1000), y);
  t.same(Array.from(y), [0.5 + 10 + 100 + 10, 0.5 + 1 + 1, 0.5 + 1 + 100 + 100, 0.5]);
  t.throws(() => buildCsr(Int32Array.of(0, 1, 2), 3), RangeError);
});

t.test('segmented rows: pairs by (segment, row), the same product as the CSR', async (t) => {
  // Segments of 2 columns (shift 1): row 0 has columns 3, 0, 1, 4; row 1 has 2; row 2 has 0, 4.
  const csr = { rowPtr: Int32Array.of(0, 4, 5, 7), col: Int32Array.of(3, 0, 1, 4, 2, 0, 4) };
  const seg = segmentRows(csr, 1);
  t.equal(seg.segments, 3);
  t.equal(seg.rows, 3);
  // Segment 0: rows 0 (0, 1) and 2 (0); segment 1: rows 0 (3) and 1 (2); segment 2: rows 0 and 2 (4).
  t.same(Array.from(seg.pairRow), [0, 2, 0, 1, 0, 2]);
  t.same(Array.from(seg.pairEnd), [2, 3, 4, 5, 6, 7]);
  t.same(Array.from(seg.col), [0, 1, 0, 3, 2, 4, 4]);
  const c = Float64Array.of(1, 2, 4, 8, 16);
  const y = new Float64Array(3);
  accumulateRows(seg, c, y);
  t.same(Array.from(y), [8 + 1 + 2 + 16, 4, 1 + 16]);

  // A larger random matrix: the segmented product equals a plain row-by-row sum, for any shift.
  const rows = 300;
  const cols = 5000;
  const rowPtr = new Int32Array(rows + 1);
  const col: number[] = [];
  let s = 7;
  for (let r = 0; r < rows; r++) {
    const k = r % 17;
    for (let e = 0; e < k; e++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      col.push(s % cols);
    }
    rowPtr[r + 1] = col.length;
  }
  const big = { rowPtr, col: Int32Array.from(col) };
  const x = Float64Array.from({ length: cols }, (_, i) => 1 / (i + 1));
  const want = new Float64Array(rows);
  for (let r = 0; r < rows; r++) for (let j = rowPtr[r]; j < rowPtr[r + 1]; j++) want[r] += x[big.col[j]];
  const whole = wholeRows(big);
  t.equal(whole.col, big.col, 'one segment shares the CSR columns');
  t.equal(segmentRows(big).col, big.col, 'a matrix narrower than a segment is not copied');
  for (const shift of [0, 4, 9, 19]) {
    const got = new Float64Array(rows);
    accumulateRows(segmentRows(big, shift), x, got);
    let worst = 0;
    for (let r = 0; r < rows; r++) worst = Math.max(worst, Math.abs(got[r] - want[r]));
    t.ok(worst < 1e-12, `shift ${shift}: largest difference ${worst}`);
  }
});

t.test('Chebyshev weights: plain steps first, then the recurrence towards its limit', async (t) => {
  const d = 0.85;
  const w = new ChebyshevWeights(d, 2, 0.7);
  t.same(
    [w.next(), w.next()],
    [
      { omega: 1, gamma: 1 },
      { omega: 1, gamma: 1 },
    ],
  );
  // Interval [-0.85, 0.7]: γ = 2/(2 + 0.85 - 0.7), ρ = (0.7 + 0.85)/(2 + 0.85 - 0.7).
  const gamma = 2 / 2.15;
  const rho = 1.55 / 2.15;
  const near = (got: { omega: number; gamma: number }, omega: number, what: string): void => {
    t.ok(Math.abs(got.omega - omega) < 1e-12 && Math.abs(got.gamma - gamma) < 1e-12, what);
  };
  near(w.next(), 1, 'first Chebyshev step: ω = 1 with γ');
  near(w.next(), 1 / (1 - rho ** 2 / 2), 'second: ω = 1/(1 − ρ²/2)');
  let last = w.next();
  for (let k = 0; k < 200; k++) last = w.next();
  // The fixed point of ω = 1/(1 − ρ²ω/4): 2/(1 + √(1 − ρ²)).
  t.ok(Math.abs(last.omega - 2 / (1 + Math.sqrt(1 - rho ** 2))) < 1e-12, `limit ${last.omega}`);
  t.throws(() => new ChebyshevWeights(1), RangeError);
  // A plain step's update is the plain value; with weights it extrapolates from the last two iterates.
  t.equal(chebyshevUpdate(0.3, 0.2, 0.1, { omega: 1, gamma: 1 }), 0.3);
  t.ok(Math.abs(chebyshevUpdate(0.3, 0.2, 0.1, { omega: 1.5, gamma: 0.5 }) - 0.325) < 1e-15);
});

t.test('Chebyshev iteration reaches the fixed point of the plain iteration, in fewer steps', async (t) => {
  // A small undirected graph: a triangle with a tail and a lone edge (a bipartite piece: eigenvalue -d).
  const ends = Int32Array.of(0, 1, 1, 2, 2, 0, 2, 3, 3, 4, 5, 6);
  const n = 7;
  const csr = buildCsr(ends, n);
  const rows = segmentRows(csr);
  const inv = rowCounts(csr).map((k) => 1 / k);
  const d = 0.85;
  const solve = (weights: ChebyshevWeights): { x: Float64Array; steps: number } => {
    const x = new Float64Array(n).fill(1 / n);
    const prev = new Float64Array(n);
    const c = new Float64Array(n);
    let steps = 0;
    for (let change = 1; change >= 1e-13; steps++) {
      const acc = new Float64Array(n);
      for (let i = 0; i < n; i++) c[i] = x[i] * inv[i];
      accumulateRows(rows, c, acc);
      const w = weights.next();
      change = 0;
      for (let i = 0; i < n; i++) {
        const v = chebyshevUpdate(d * acc[i] + (1 - d) / n, x[i], prev[i], w);
        change += Math.abs(v - x[i]);
        prev[i] = x[i];
        x[i] = v;
      }
    }
    return { x, steps };
  };
  const plain = solve(new ChebyshevWeights(d, 1e9));
  const fast = solve(new ChebyshevWeights(d));
  t.ok(fast.steps < plain.steps, `steps: ${fast.steps} against ${plain.steps}`);
  let worst = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    worst = Math.max(worst, Math.abs(fast.x[i] - plain.x[i]));
    sum += fast.x[i];
  }
  t.ok(worst < 1e-12, `largest difference ${worst}`);
  t.ok(Math.abs(sum - 1) < 1e-12, `sum ${sum}`);
  // The lone edge (nodes 5, 6) keeps its share 2/7 of the mass.
  t.ok(Math.abs(fast.x[5] + fast.x[6] - 2 / 7) < 1e-12);
});

t.test('topK: highest first, ties by smaller id, any input order', async (t) => {
  const ids = Float64Array.of(5, 3, 9, 1, 7);
  const scores = Float64Array.of(0.1, 0.3, 0.3, 0.05, 0.2);
  t.same(topK(ids, scores, 3), [
    [3, 0.3],
    [9, 0.3],
    [7, 0.2],
  ]);
  t.same(topK(ids, scores, 10).length, 5);
  t.same(
    mergeTop(
      [
        [
          [9, 0.3],
          [1, 0.05],
        ],
        [
          [3, 0.3],
          [7, 0.2],
        ],
      ],
      2,
    ),
    [
      [3, 0.3],
      [9, 0.3],
    ],
  );
});

// Star 10-20, 10-30 under torch_ppr (alpha 0.05, column-normalised A + Aᵀ): the centre's fixed point a
// solves a = 0.95·2b + 0.05/3, b = 0.95·a/2 + 0.05/3, so a = (2.9/60)/0.0975 and b = (1 - a)/2.
const A = 2.9 / 60 / 0.0975;
const B = (1 - A) / 2;

t.test('torch_ppr block kernel: one step by hand, then the fixed point', async (t) => {
  const src = Float64Array.of(10, 10);
  const dst = Float64Array.of(20, 30);
  const one = torchPageRank(src, dst, { maxIter: 1 });
  t.same(Array.from(one.ids), [10, 20, 30]);
  // x1 = 0.95·[2/3, 1/6, 1/6] + 0.05/3 = [0.65, 0.175, 0.175]
  const want = [0.65, 0.175, 0.175];
  one.scores.forEach((v, i) => {
    t.ok(Math.abs(v - want[i]) < 1e-15, `step 1 node ${one.ids[i]}: ${v}`);
  });
  const full = torchPageRank(src, dst);
  t.ok(full.iterations > 10 && full.iterations < 1000, `iterations ${full.iterations}`);
  t.ok(Math.abs(full.scores[0] - A) < 1e-4, `centre ${full.scores[0]} vs ${A}`);
  t.ok(Math.abs(full.scores[1] - B) < 1e-4);
  t.ok(Math.abs(full.scores.reduce((s, v) => s + v, 0) - 1) < 1e-12);
  t.equal(torchPageRank(new Float64Array(0), new Float64Array(0)).scores.length, 0);
});

t.test('ScoreSum adds per id across blocks', async (t) => {
  const s = new ScoreSum(2);
  s.add(Float64Array.of(1, 2), Float64Array.of(0.5, 0.25));
  for (let i = 0; i < 1000; i++) s.add(Float64Array.of(100 + i), Float64Array.of(1));
  s.add(Float64Array.of(2, 3), Float64Array.of(0.25, 0.125));
  const { ids, scores } = s.entries();
  t.equal(s.size, 1003);
  t.same(Array.from(ids.subarray(0, 2)), [1, 2]);
  t.same(Array.from(scores.subarray(0, 2)), [0.5, 0.5]);
  t.equal(scores[1002], 0.125);
});

t.test('degreeOrder numbers hubs first, ties by old index, as a permutation', async (t) => {
  const perm = degreeOrder(Float64Array.of(1, 5, 2, 5, 0, 1));
  t.same(Array.from(perm), [3, 0, 2, 1, 5, 4]);
  const big = new Float64Array(10_000).map((_, i) => (i * 7919) % 101);
  const p = degreeOrder(big);
  t.equal(new Set(p).size, big.length, 'a permutation');
  const inv = new Int32Array(big.length);
  p.forEach((nw, old) => {
    inv[nw] = old;
  });
  for (let i = 1; i < inv.length; i++) {
    if (big[inv[i - 1]] < big[inv[i]]) t.fail(`order broken at ${i}`);
  }
});

t.test('indexLocalEdges numbers ends in first-seen order across chunks, repeated node1 or not', async (t) => {
  async function* chunks() {
    yield { src: Float64Array.of(7, 7, 9), dst: Float64Array.of(8, 9, 7) };
    yield { src: Float64Array.of(9, 5), dst: Float64Array.of(5, 5) };
  }
  const { ends, ids } = await indexLocalEdges(chunks());
  t.same(Array.from(ends), [0, 1, 0, 2, 2, 0, 2, 3, 3, 3]);
  t.same(Array.from(ids.ids), [7, 8, 9, 5]);
  t.same(Array.from(localDegrees(ends, ids.size)), [3, 1, 3, 3], 'a self-loop counts twice');
});

t.test('labelRows deals nodes to the parts by degree; ownerOfRow finds the range', async (t) => {
  // Degrees 9, 8, ..., 0 (by global index 0..9) over 3 parts: part sizes 4, 3, 3.
  const deg = Float64Array.from({ length: 10 }, (_, i) => 9 - i);
  const { perm, invDeg, bounds } = labelRows(deg, 3);
  t.same(Array.from(bounds), [0, 4, 7, 10]);
  t.same(
    Array.from(perm).sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    'a permutation',
  );
  // Degree ranks 0, 3, 6, 9 go to part 0; 1, 4, 7 to part 1; 2, 5, 8 to part 2, hub-first in each.
  t.same(Array.from(perm), [0, 4, 7, 1, 5, 8, 2, 6, 9, 3]);
  t.same(Array.from(invDeg.slice(0, 4)), [1 / 9, 1 / 6, 1 / 3, 0], 'part 0: degrees 9, 6, 3, 0');
  for (let v = 0; v < 10; v++)
    t.ok(bounds[ownerOfRow(bounds, v)] <= v && v < bounds[ownerOfRow(bounds, v) + 1]);
  // One part: plain hub-first labels.
  t.same(Array.from(labelRows(Float64Array.of(1, 5, 2), 1).perm), [2, 0, 1]);
  // A power-law-like spread: every part gets about the same number of entries.
  const big = Float64Array.from({ length: 10000 }, (_, i) => Math.floor(1000 / (1 + (i % 997))));
  const split = labelRows(big, 2);
  const entries = [0, 0];
  for (let i = 0; i < big.length; i++) entries[ownerOfRow(split.bounds, split.perm[i])] += big[i];
  t.ok(Math.abs(entries[0] - entries[1]) <= 1000, `entries per part: ${entries}`);
  // More parts than nodes: empty ranges, every node still has exactly one owner.
  const few = labelRows(Float64Array.of(3, 1), 4);
  t.same(Array.from(few.bounds), [0, 1, 2, 2, 2]);
});

t.test(
  'csrOfRows: row lengths from the degrees equal the counted ones; wrong degrees are caught',
  async (t) => {
    // Edges over labels 0..4 in two source lists, a self-loop (2-2) and a duplicate (0-1 twice).
    const sources = [Int32Array.of(0, 1, 2, 2, 1, 3), Int32Array.of(1, 0, 4, 2, 3, 0)];
    const deg = [3, 3, 3, 2, 1];
    const invDeg = Float64Array.from(deg, (d) => 1 / d);
    for (const [lo, hi] of [
      [0, 5],
      [1, 4],
      [3, 5],
    ]) {
      const counted = csrOfRows(sources, lo, hi);
      const fromDegrees = csrOfRows(sources, lo, hi, invDeg);
      t.same(Array.from(fromDegrees.rowPtr), Array.from(counted.rowPtr), `rows ${lo}..${hi}: row starts`);
      t.same(Array.from(fromDegrees.col), Array.from(counted.col), `rows ${lo}..${hi}: columns`);
    }
    const wrong = Float64Array.from([3, 2, 3, 2, 1], (d) => 1 / d);
    t.throws(() => csrOfRows(sources, 0, 5, wrong), /row 1 got 3 entries, its degree is 2/);
  },
);
