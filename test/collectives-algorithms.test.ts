/**
 * Pure index-math tests of every collective algorithm over the in-memory Comm (test/helpers/memory-comm.ts):
 * world sizes 1..16, several dtypes, lengths 0, 1, < size, odd and multi-segment, compared element by element
 * with a plain computation. After each rank returns, its inputs and outputs are overwritten at once, so an
 * algorithm that leaves caller memory in flight fails with ZeroCopyViolationError.
 *
 * Longer than ~300 lines on purpose: it is the one test file the brief names for the algorithms, and the
 * reference computations at the top are shared by every section below (one section per algorithm).
 */
import t from 'tap';
import { allGatherAnnounce } from '../collectives/algorithms/allgather-announce.js';
import { allGatherVBruck } from '../collectives/algorithms/allgatherv-bruck.js';
import { allGatherVDirect } from '../collectives/algorithms/allgatherv-direct.js';
import { allGatherVRing } from '../collectives/algorithms/allgatherv-ring.js';
import { allReduceHierarchical } from '../collectives/algorithms/allreduce-hierarchical.js';
import { allReduceRecursiveDoubling } from '../collectives/algorithms/allreduce-recursive-doubling.js';
import { allReduceRing } from '../collectives/algorithms/allreduce-ring.js';
import { allToAllVPairwise } from '../collectives/algorithms/alltoallv-pairwise.js';
import { barrierDissemination } from '../collectives/algorithms/barrier-dissemination.js';
import { broadcastBinomial } from '../collectives/algorithms/broadcast-binomial.js';
import { broadcastScatterAllGather } from '../collectives/algorithms/broadcast-scatter-allgather.js';
import { gatherVDirect } from '../collectives/algorithms/gatherv-direct.js';
import { MessageSizeError } from '../collectives/algorithms/message-size-error.js';
import { reduceBinomial } from '../collectives/algorithms/reduce-binomial.js';
import { reduceScatterGather } from '../collectives/algorithms/reduce-scatter-gather.js';
import { reduceScatterRing } from '../collectives/algorithms/reduce-scatter-ring.js';
import { scatterVDirect } from '../collectives/algorithms/scatterv-direct.js';
import * as select from '../collectives/algorithms/select.js';
import type { TypedArrayConstructor } from '../collectives/algorithms/typed-views.js';
import type { Comm } from '../collectives/comm.js';
import type { ReduceOp, TypedArray } from '../src/wire/vocabulary.js';
import { isBig, isFloat, isSigned } from './helpers/dtypes.js';
import { MemoryWorld, ZeroCopyViolationError } from './helpers/memory-comm.js';

const SIZES = Array.from({ length: 16 }, (_, i) => i + 1);
const DTYPES: TypedArrayConstructor[] = [Float32Array, Float64Array, Int32Array, Uint8Array, BigInt64Array];
const ALL_DTYPES: TypedArrayConstructor[] = [
  ...DTYPES,
  Int8Array,
  Int16Array,
  Uint16Array,
  Uint32Array,
  BigUint64Array,
];
/** Small ring segments so 301 elements take several pipelined passes. */
const SMALL_SEGMENTS = { segmentBytes: 64, pipelineDepth: 3 };

const lengthsFor = (size: number) => [...new Set([0, 1, Math.max(0, size - 1), 37, 301])];

type Cell = number | bigint;
const cells = (x: TypedArray) => x as unknown as Cell[];

/** Deterministic value of element i on rank r. Floats are exact in every op below (small dyadic values). */
function valueAt(ctor: TypedArrayConstructor, op: ReduceOp, r: number, i: number): Cell {
  const h = Math.imul(r * 7919 + i * 104729 + 17, 2654435761) >>> 0;
  if (isFloat(ctor)) {
    const choices = op === 'prod' ? [0.5, -1, 2, 1, -0.5, -2] : [-2, -1, -0.5, 0.5, 1, 2, 3, 1.5];
    return choices[h % choices.length];
  }
  const bits = ctor.BYTES_PER_ELEMENT * 8;
  const raw = (BigInt(h) << 32n) | BigInt(Math.imul(h, 40503) >>> 0);
  const v = isSigned(ctor) ? BigInt.asIntN(bits, raw) : BigInt.asUintN(bits, raw);
  return isBig(ctor) ? v : Number(v);
}

function inputFor<T extends TypedArray>(ctor: TypedArrayConstructor, op: ReduceOp, r: number, n: number): T {
  const x = new ctor(n) as T;
  for (let i = 0; i < n; i++) cells(x)[i] = valueAt(ctor, op, r, i);
  return x;
}

/** The reduction over all ranks computed directly: doubles for floats, unbounded BigInt wrapped for ints. */
function reference(ctor: TypedArrayConstructor, op: ReduceOp, size: number, n: number): TypedArray {
  const out = new ctor(n);
  const bits = BigInt(ctor.BYTES_PER_ELEMENT * 8);
  const wrap = (v: bigint) =>
    isSigned(ctor) ? BigInt.asIntN(Number(bits), v) : BigInt.asUintN(Number(bits), v);
  for (let i = 0; i < n; i++) {
    if (isFloat(ctor)) {
      let acc = valueAt(ctor, op, 0, i) as number;
      for (let r = 1; r < size; r++) {
        const v = valueAt(ctor, op, r, i) as number;
        if (op === 'sum' || op === 'avg') acc += v;
        else if (op === 'prod') acc *= v;
        else if (op === 'min') acc = Math.min(acc, v);
        else acc = Math.max(acc, v);
      }
      cells(out)[i] = op === 'avg' ? acc / size : acc;
    } else {
      let acc = BigInt(valueAt(ctor, op, 0, i));
      for (let r = 1; r < size; r++) {
        const v = BigInt(valueAt(ctor, op, r, i));
        if (op === 'sum' || op === 'avg') acc += v;
        else if (op === 'prod') acc *= v;
        else if (op === 'min') acc = acc < v ? acc : v;
        else if (op === 'max') acc = acc > v ? acc : v;
        else if (op === 'band') acc &= v;
        else if (op === 'bor') acc |= v;
        else acc ^= v;
      }
      acc = wrap(acc);
      if (op === 'avg') acc = acc / BigInt(size);
      cells(out)[i] = isBig(ctor) ? acc : Number(acc);
    }
  }
  return out;
}

/** First element-by-element difference, or undefined. */
function diff(actual: TypedArray | undefined, expected: TypedArray, what: string): string | undefined {
  if (actual === undefined) return `${what}: no result`;
  if (actual.constructor !== expected.constructor) return `${what}: dtype ${actual.constructor.name}`;
  if (actual.length !== expected.length)
    return `${what}: length ${actual.length}, expected ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(cells(actual)[i], cells(expected)[i])) {
      return `${what}: [${i}] = ${cells(actual)[i]}, expected ${cells(expected)[i]}`;
    }
  }
  return undefined;
}

function sameBits(a: TypedArray, b: TypedArray): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return x.every((v, i) => v === y[i]);
}

/** Overwrites caller-visible memory right after a rank returns: in-flight sends of it are then caught. */
function scribble(...arrays: (TypedArray | undefined)[]): void {
  for (const a of arrays)
    if (a !== undefined) new Uint8Array(a.buffer, a.byteOffset, a.byteLength).fill(0x5a);
}

let seed = 1;
const run = <R>(size: number, fn: (comm: Comm) => Promise<R>) =>
  new MemoryWorld(size, { seed: seed++ }).run(fn);

type AllReduceFn = (comm: Comm, x: TypedArray, op: ReduceOp) => Promise<TypedArray>;
const ALLREDUCES: [string, AllReduceFn][] = [
  ['allreduce-recursive-doubling', (c, x, op) => allReduceRecursiveDoubling(c, x, op)],
  ['allreduce-ring', (c, x, op) => allReduceRing(c, x, op, SMALL_SEGMENTS)],
  ['allreduce-ring (1 MiB segments)', (c, x, op) => allReduceRing(c, x, op)],
  ['select.allReduce', (c, x, op) => select.allReduce(c, x, op)],
  // Hosts interleaved (rank r on host r mod 3) so sub-group numbering differs from group numbering; sizes
  // that are multiples of 3 take the reduce-scatter path, the others the leaders' path.
  ['allreduce-hierarchical', hierarchicalOnThreeHosts(1)],
  // The pipelined form: pieces run the three steps one after another per step, overlapping across steps.
  ['allreduce-hierarchical (3 pieces)', hierarchicalOnThreeHosts(3)],
];

/** The hierarchical all-reduce with rank r on host r mod 3, in `pieces` pieces. */
function hierarchicalOnThreeHosts(pieces: number): AllReduceFn {
  return (c, x, op) =>
    allReduceHierarchical(
      phasesOf(c),
      Array.from({ length: c.size }, (_, r) => r % 3),
      x,
      op,
      select,
      pieces,
    );
}

/** GroupCore's phase(n) over the in-memory Comm: the same ranks, steps offset by n << 24. */
function phasesOf(c: Comm): (n: number) => Comm {
  return (n) => ({
    rank: c.rank,
    size: c.size,
    send: (p, step, d) => c.send(p, (n << 24) + step, d),
    recv: (p, step) => c.recv(p, (n << 24) + step),
  });
}

async function checkAllReduce(
  fn: AllReduceFn,
  size: number,
  ctor: TypedArrayConstructor,
  n: number,
  op: ReduceOp,
) {
  const results = await run(size, async (comm) => {
    const x = inputFor(ctor, op, comm.rank, n);
    const returned = await fn(comm, x, op);
    const snapshot = x.slice();
    const sameObject = returned === x;
    scribble(x);
    return { snapshot, sameObject };
  });
  const expected = reference(ctor, op, size, n);
  for (let r = 0; r < size; r++) {
    if (!results[r].sameObject) return `rank ${r}: did not return x (in place)`;
    const d = diff(results[r].snapshot, expected, `rank ${r}`);
    if (d) return d;
  }
  return undefined;
}

for (const [name, fn] of ALLREDUCES) {
  t.test(`${name}: sum over sizes 1..16 x dtypes x lengths`, async (t) => {
    const failures: string[] = [];
    for (const size of SIZES) {
      for (const ctor of DTYPES) {
        for (const n of lengthsFor(size)) {
          const d = await checkAllReduce(fn, size, ctor, n, 'sum');
          if (d) failures.push(`size ${size} ${ctor.name} n=${n}: ${d}`);
        }
      }
    }
    t.same(failures, []);
  });

  t.test(`${name}: every op on every dtype`, async (t) => {
    const failures: string[] = [];
    for (const size of [2, 3, 6, 7]) {
      for (const ctor of ALL_DTYPES) {
        const ops: ReduceOp[] = isFloat(ctor)
          ? ['sum', 'prod', 'min', 'max', 'avg']
          : ['sum', 'prod', 'min', 'max', 'avg', 'band', 'bor', 'bxor'];
        for (const op of ops) {
          const d = await checkAllReduce(fn, size, ctor, 37, op);
          if (d) failures.push(`size ${size} ${ctor.name} ${op}: ${d}`);
        }
      }
    }
    t.same(failures, []);
  });

  t.test(`${name}: float results are bitwise identical on every rank`, async (t) => {
    const failures: string[] = [];
    for (const size of [2, 3, 5, 6, 7, 8, 13, 16]) {
      for (const ctor of [Float32Array, Float64Array] as TypedArrayConstructor[]) {
        const n = 257;
        const results = await run(size, async (comm) => {
          const x = new ctor(n) as Float64Array;
          // Irrational-ish values so the summation order changes the rounding.
          for (let i = 0; i < n; i++) x[i] = Math.sin(comm.rank * 1000.3 + i * 1.7) * 10 ** ((i % 7) - 3);
          await fn(comm, x, 'sum');
          return x;
        });
        for (let r = 1; r < size; r++) {
          if (!sameBits(results[r], results[0]))
            failures.push(`size ${size} ${ctor.name}: rank ${r} differs from rank 0`);
        }
        // Error relative to the sum of magnitudes: the bound of any summation order, immune to cancellation.
        let worst = 0;
        for (let i = 0; i < n; i++) {
          let exact = 0;
          let magnitude = 0;
          for (let r = 0; r < size; r++) {
            const v = Math.sin(r * 1000.3 + i * 1.7) * 10 ** ((i % 7) - 3);
            exact += v;
            magnitude += Math.abs(v);
          }
          worst = Math.max(worst, Math.abs(results[0][i] - exact) / magnitude);
        }
        if (worst > (ctor === Float32Array ? 1e-5 : 1e-13))
          failures.push(`size ${size} ${ctor.name}: rel error ${worst}`);
      }
    }
    t.same(failures, []);
  });
}

t.test('reduce-scatter-ring: block r = [floor(n*r/p), floor(n*(r+1)/p)), x unmodified', async (t) => {
  const failures: string[] = [];
  const variants: [string, (c: Comm, x: TypedArray, op: ReduceOp) => Promise<TypedArray>, boolean][] = [
    ['small segments', (c, x, op) => reduceScatterRing(c, x, op, SMALL_SEGMENTS), false],
    ['select', (c, x, op) => select.reduceScatter(c, x, op), false],
    // Sends complete on return with recvInto and scratch (the real transport's Comm): partials arrive in
    // lent buffers, passed-on partials are reduced into scratch, the own block straight into the result.
    ['small segments, into the result', (c, x, op) => reduceScatterRing(c, x, op, SMALL_SEGMENTS), true],
  ];
  for (const [label, fn, completeSends] of variants) {
    const world = (size: number) => new MemoryWorld(size, { seed: seed++, completeSends });
    // The selector variant only differs in segment size: a few world sizes suffice.
    for (const size of label === 'select' ? [3, 7, 16] : SIZES) {
      for (const ctor of DTYPES) {
        for (const n of lengthsFor(size)) {
          for (const op of (n === 37 ? ['sum', 'max', 'avg'] : ['sum']) as ReduceOp[]) {
            const results = await world(size).run(async (comm) => {
              const x = inputFor(ctor, op, comm.rank, n);
              const block = await fn(comm, x, op);
              const unmodified = diff(x, inputFor(ctor, op, comm.rank, n), 'input x');
              const snapshot = block.slice();
              scribble(x, block);
              return { snapshot, unmodified };
            });
            const expected = reference(ctor, op, size, n);
            for (let r = 0; r < size; r++) {
              const lo = Math.floor((n * r) / size);
              const hi = Math.floor((n * (r + 1)) / size);
              const d =
                results[r].unmodified ?? diff(results[r].snapshot, expected.subarray(lo, hi), `rank ${r}`);
              if (d) failures.push(`${label} size ${size} ${ctor.name} n=${n} ${op}: ${d}`);
            }
          }
        }
      }
    }
  }
  t.same(failures, []);
});

type ReduceFn = (comm: Comm, x: TypedArray, op: ReduceOp, root: number) => Promise<TypedArray>;
const REDUCES: [string, ReduceFn, (size: number) => number[]][] = [
  ['reduce-binomial', reduceBinomial, (size) => [0, size - 1, Math.floor(size / 2)]],
  // Its reduce-scatter half is tested above; here the gather to the root matters.
  [
    'reduce-scatter-gather',
    (c, x, op, root) => reduceScatterGather(c, x, op, root, SMALL_SEGMENTS),
    (size) => [size - 1],
  ],
];
for (const [name, fn, rootsFor] of REDUCES) {
  t.test(`${name}: root gets the result, other ranks x unmodified, any root`, async (t) => {
    const failures: string[] = [];
    for (const size of SIZES) {
      for (const ctor of DTYPES) {
        for (const n of lengthsFor(size)) {
          for (const root of new Set(rootsFor(size))) {
            for (const op of (n === 37 ? ['sum', 'min', 'avg'] : ['sum']) as ReduceOp[]) {
              const results = await run(size, async (comm) => {
                const x = inputFor(ctor, op, comm.rank, n);
                await fn(comm, x, op, root);
                const snapshot = x.slice();
                scribble(x);
                return snapshot;
              });
              const expected = reference(ctor, op, size, n);
              for (let r = 0; r < size; r++) {
                const d = diff(results[r], r === root ? expected : inputFor(ctor, op, r, n), `rank ${r}`);
                if (d) failures.push(`size ${size} ${ctor.name} n=${n} root ${root} ${op}: ${d}`);
              }
            }
          }
        }
      }
    }
    t.same(failures, []);
  });
}

type BroadcastFn = (comm: Comm, x: TypedArray, root: number) => Promise<TypedArray>;
/** Scatter-allgather is the slow one to simulate (p-1 ring steps); two roots cover the rotation. */
const BROADCASTS: [string, BroadcastFn][] = [
  ['broadcast-binomial', broadcastBinomial],
  ['broadcast-scatter-allgather', broadcastScatterAllGather],
  ['select.broadcast', select.broadcast],
];
for (const [name, fn] of BROADCASTS) {
  t.test(`${name}: every rank ends with the root's data, any root`, async (t) => {
    const failures: string[] = [];
    for (const size of SIZES) {
      for (const ctor of DTYPES) {
        for (const n of lengthsFor(size)) {
          for (const root of new Set(
            name === 'broadcast-scatter-allgather' ? [(n + 1) % size] : [0, size - 1, (n + 1) % size],
          )) {
            const results = await run(size, async (comm) => {
              // Non-roots start with different data that must be overwritten.
              const x = inputFor(ctor, 'sum', comm.rank === root ? 1000 : comm.rank, n);
              const returned = await fn(comm, x, root);
              const snapshot = x.slice();
              const sameObject = returned === x;
              scribble(x);
              return { snapshot, sameObject };
            });
            const expected = inputFor(ctor, 'sum', 1000, n);
            for (let r = 0; r < size; r++) {
              const d = results[r].sameObject
                ? diff(results[r].snapshot, expected, `rank ${r}`)
                : `rank ${r}: not in place`;
              if (d) failures.push(`size ${size} ${ctor.name} n=${n} root ${root}: ${d}`);
            }
          }
        }
      }
    }
    t.same(failures, []);
  });
}

/** Variable contributions: some ranks give nothing. */
const countOf = (r: number, n: number) => (r % 3 === 1 ? 0 : Math.max(0, n - r));

type AllGatherFn = (comm: Comm, x: TypedArray, counts: readonly number[]) => Promise<TypedArray[]>;
const ALLGATHERS: [string, AllGatherFn][] = [
  ['allgatherv-ring', allGatherVRing],
  ['allgatherv-bruck', allGatherVBruck],
  ['allgatherv-direct', allGatherVDirect],
  [
    'allgatherv-direct into a caller buffer',
    (comm, x, counts) => {
      const out = new (x.constructor as new (n: number) => TypedArray)(counts.reduce((a, b) => a + b, 0));
      return allGatherVDirect(comm, x, counts, out);
    },
  ],
  ['select.allGatherV', select.allGatherV],
  [
    'allgather-announce into a caller buffer (every part eager)',
    async (comm, x, counts) => {
      const out = new (x.constructor as new (n: number) => TypedArray)(counts.reduce((a, b) => a + b, 0));
      const a = await allGatherAnnounce(comm, x, Number.POSITIVE_INFINITY, out);
      if (!a.parts?.every((p) => p.buffer === out.buffer)) throw new Error('parts are not views of out');
      return a.parts;
    },
  ],
  [
    'allgather-announce (every part eager)',
    async (comm, x, counts) => {
      const a = await allGatherAnnounce(comm, x, Number.POSITIVE_INFINITY);
      if (a.counts.join() !== counts.join()) throw new Error(`announced counts ${a.counts.join()}`);
      if (!a.parts) throw new Error('no parts although every part was eager');
      return a.parts;
    },
  ],
];

t.test('allgather-announce: one part over the eager limit leaves the data for a second round', async (t) => {
  for (const size of [2, 3, 5, 8]) {
    const results = await run(size, async (comm) => {
      const x = new Float64Array(comm.rank === size - 1 ? 40 : 3).fill(comm.rank);
      return allGatherAnnounce(comm, x, 8 * 10);
    });
    const counts = Array.from({ length: size }, (_, r) => (r === size - 1 ? 40 : 3));
    for (const r of results) {
      t.same(r.counts, counts, `size ${size}: every rank learns every length`);
      t.equal(r.parts, undefined, `size ${size}: no parts`);
    }
  }
});
for (const [name, fn] of ALLGATHERS) {
  t.test(`${name}: variable lengths incl. zero, result by rank, x unmodified`, async (t) => {
    const failures: string[] = [];
    for (const size of SIZES) {
      for (const ctor of DTYPES) {
        for (const n of lengthsFor(size)) {
          const counts = Array.from({ length: size }, (_, r) => countOf(r, n));
          const results = await run(size, async (comm) => {
            const x = inputFor(ctor, 'sum', comm.rank, counts[comm.rank]);
            const parts = await fn(comm, x, counts);
            const unmodified = diff(x, inputFor(ctor, 'sum', comm.rank, counts[comm.rank]), 'input x');
            const snapshot = parts.map((p) => p.slice());
            scribble(x, ...parts);
            return { snapshot, unmodified };
          });
          for (let r = 0; r < size; r++) {
            let d = results[r].unmodified;
            if (!d && results[r].snapshot.length !== size)
              d = `rank ${r}: ${results[r].snapshot.length} parts`;
            for (let s = 0; s < size && !d; s++) {
              d = diff(results[r].snapshot[s], inputFor(ctor, 'sum', s, counts[s]), `rank ${r} part ${s}`);
            }
            if (d) failures.push(`size ${size} ${ctor.name} n=${n}: ${d}`);
          }
        }
      }
    }
    t.same(failures, []);
  });
}

t.test('gatherv-direct: root gets every part by rank, others undefined', async (t) => {
  const failures: string[] = [];
  for (const size of SIZES) {
    for (const ctor of DTYPES) {
      for (const n of lengthsFor(size)) {
        const root = (n + size - 1) % size;
        const counts = Array.from({ length: size }, (_, r) => countOf(r, n));
        const results = await run(size, async (comm) => {
          const x = inputFor(ctor, 'sum', comm.rank, counts[comm.rank]);
          const parts = await select.gatherV(comm, x, counts, root);
          const snapshot = parts?.map((p) => p.slice());
          scribble(x, ...(parts ?? []));
          return snapshot;
        });
        for (let r = 0; r < size; r++) {
          let d: string | undefined;
          if (r !== root) d = results[r] === undefined ? undefined : `rank ${r}: non-root got a result`;
          else if (results[r]?.length !== size) d = `root: ${results[r]?.length} parts`;
          for (let s = 0; r === root && s < size && !d; s++) {
            d = diff(results[r]?.[s], inputFor(ctor, 'sum', s, counts[s]), `part ${s}`);
          }
          if (d) failures.push(`size ${size} ${ctor.name} n=${n} root ${root}: ${d}`);
        }
      }
    }
  }
  t.same(failures, []);
});

t.test('scatterv-direct: each rank gets its part, with or without counts on non-roots', async (t) => {
  const failures: string[] = [];
  for (const size of SIZES) {
    for (const ctor of DTYPES) {
      for (const n of lengthsFor(size)) {
        const root = n % size;
        const counts = Array.from({ length: size }, (_, r) => countOf(r, n));
        const results = await run(size, async (comm) => {
          const parts =
            comm.rank === root ? counts.map((c, r) => inputFor(ctor, 'sum', r + 50, c)) : undefined;
          const mine = await select.scatterV(comm, parts, n % 2 === 0 ? counts : undefined, root, ctor);
          const snapshot = mine.slice();
          scribble(mine, ...(parts ?? []));
          return snapshot;
        });
        for (let r = 0; r < size; r++) {
          const d = diff(results[r], inputFor(ctor, 'sum', r + 50, counts[r]), `rank ${r}`);
          if (d) failures.push(`size ${size} ${ctor.name} n=${n} root ${root}: ${d}`);
        }
      }
    }
  }
  t.same(failures, []);
});

t.test('alltoallv-pairwise: part for d from s arrives at d indexed by s, any lengths', async (t) => {
  const failures: string[] = [];
  const partLength = (s: number, d: number, n: number) => (s * 3 + d * 5 + n) % (n + 1);
  const partValue = (s: number, d: number) => s * 100 + d;
  for (const size of SIZES) {
    for (const ctor of DTYPES) {
      for (const n of lengthsFor(size)) {
        const results = await run(size, async (comm) => {
          const parts = Array.from({ length: size }, (_, d) =>
            inputFor(ctor, 'sum', partValue(comm.rank, d), partLength(comm.rank, d, n)),
          );
          const recvCounts = Array.from({ length: size }, (_, s) => partLength(s, comm.rank, n));
          const got = await allToAllVPairwise(comm, parts, recvCounts);
          const unmodified = parts
            .map((p, d) =>
              diff(
                p,
                inputFor(ctor, 'sum', partValue(comm.rank, d), partLength(comm.rank, d, n)),
                `part ${d}`,
              ),
            )
            .find((x) => x);
          const snapshot = got.map((p) => p.slice());
          scribble(...parts, ...got);
          return { snapshot, unmodified };
        });
        for (let r = 0; r < size; r++) {
          let d = results[r].unmodified;
          for (let s = 0; s < size && !d; s++) {
            d = diff(
              results[r].snapshot[s],
              inputFor(ctor, 'sum', partValue(s, r), partLength(s, r, n)),
              `rank ${r} from ${s}`,
            );
          }
          if (d) failures.push(`size ${size} ${ctor.name} n=${n}: ${d}`);
        }
      }
    }
  }
  t.same(failures, []);
});

t.test('barrier-dissemination: no rank leaves before every rank has entered', async (t) => {
  const failures: string[] = [];
  for (const size of SIZES) {
    let entered = 0;
    const seenOnExit: number[] = await run(size, async (comm) => {
      // Stagger arrivals over several event-loop turns.
      for (let i = 0; i < comm.rank * 3; i++) await new Promise((resolve) => setImmediate(resolve));
      entered++;
      await barrierDissemination(comm);
      return entered;
    });
    if (seenOnExit.some((e) => e !== size))
      failures.push(`size ${size}: ranks left after ${seenOnExit.join(',')} entries`);
  }
  t.same(failures, []);
});

t.test('selector picks by bytes and world size', async (t) => {
  t.equal(
    select.allReduceAlgorithm(select.ALLREDUCE_RECURSIVE_DOUBLING_MAX_BYTES, 8, 1 << 14),
    'recursive-doubling',
  );
  t.equal(select.allReduceAlgorithm(select.ALLREDUCE_RECURSIVE_DOUBLING_MAX_BYTES + 4, 8, 1 << 14), 'ring');
  t.equal(select.allReduceAlgorithm(1 << 20, 16, 8), 'recursive-doubling', 'fewer elements than ranks');
  t.equal(
    select.allReduceAlgorithm(select.ALLREDUCE_TWO_RANK_EXCHANGE_MAX_BYTES, 2, 1 << 18),
    'recursive-doubling',
  );
  t.equal(select.allReduceAlgorithm(select.ALLREDUCE_TWO_RANK_EXCHANGE_MAX_BYTES + 4, 2, 1 << 18), 'ring');
  t.equal(select.allReduceAlgorithm(select.ALLREDUCE_TWO_RANK_EXCHANGE_MAX_BYTES, 3, 1 << 18), 'ring');
  t.equal(select.broadcastAlgorithm(select.BROADCAST_BINOMIAL_MAX_BYTES, 8), 'binomial');
  t.equal(select.broadcastAlgorithm(select.BROADCAST_BINOMIAL_MAX_BYTES + 1, 8), 'scatter-allgather');
  t.equal(select.broadcastAlgorithm(1 << 24, 2), 'binomial');
  t.equal(select.reduceAlgorithm(select.REDUCE_BINOMIAL_MAX_BYTES, 8, 1 << 14), 'binomial');
  t.equal(select.reduceAlgorithm(select.REDUCE_BINOMIAL_MAX_BYTES + 8, 8, 1 << 14), 'scatter-gather');
  t.equal(
    select.allGatherAlgorithm(select.ALLGATHER_DIRECT_MAX_BYTES, select.ALLGATHER_DIRECT_MAX_RANKS),
    'direct',
  );
  t.equal(select.allGatherAlgorithm(select.ALLGATHER_DIRECT_MAX_BYTES + 1, 2), 'ring');
  t.equal(
    select.allGatherAlgorithm(select.ALLGATHER_BRUCK_MAX_BYTES, select.ALLGATHER_DIRECT_MAX_RANKS + 1),
    'bruck',
  );
  t.equal(
    select.allGatherAlgorithm(select.ALLGATHER_BRUCK_MAX_BYTES + 1, select.ALLGATHER_DIRECT_MAX_RANKS + 1),
    'ring',
  );
});

t.test('large messages through the selector take the ring paths and stay correct', async (t) => {
  for (const size of [3, 4]) {
    const n = 100_003; // 400 KB of Float32 per rank: ring all-reduce, scatter-allgather broadcast, ring all-gather
    // One world per call: message steps restart at 0 in every collective call.
    const xs = await run(size, async (comm) => {
      const x = inputFor<Float32Array>(Float32Array, 'sum', comm.rank, n);
      await select.allReduce(comm, x, 'sum');
      return x;
    });
    const bs = await run(size, async (comm) => {
      const b = inputFor<Float32Array>(Float32Array, 'sum', comm.rank + 7, n);
      await select.broadcast(comm, b, 1);
      return b;
    });
    const reduced = await run(size, async (comm) => {
      const x = inputFor<Float32Array>(Float32Array, 'sum', comm.rank, n);
      await select.reduce(comm, x, 'sum', size - 1);
      return x;
    });
    t.notOk(diff(reduced[size - 1], reference(Float32Array, 'sum', size, n), 'reduce at root'));
    t.notOk(diff(reduced[0], inputFor(Float32Array, 'sum', 0, n), 'reduce leaves non-root x'));
    const counts = [100_000, 100_001, 100_002, 100_003].slice(0, size);
    const gathered = await run(size, (comm) =>
      select.allGatherV(comm, xs[comm.rank].subarray(0, counts[comm.rank]), counts),
    );
    const results = xs.map((x, r) => ({ x, b: bs[r], parts: gathered[r] }));
    const expected = reference(Float32Array, 'sum', size, n);
    for (let r = 0; r < size; r++) {
      t.notOk(diff(results[r].x, expected, `allReduce rank ${r}`));
      t.notOk(diff(results[r].b, inputFor(Float32Array, 'sum', 8, n), `broadcast rank ${r}`));
      for (let s = 0; s < size; s++)
        t.notOk(diff(results[r].parts[s], expected.subarray(0, 100_000 + s), `allGather ${r}/${s}`));
    }
  }
});

t.test('bad calls fail with errors that name the problem', async (t) => {
  await t.rejects(
    run(3, (comm) =>
      allReduceRing(comm, new Float32Array(10 + (comm.rank === 2 ? 1 : 0)), 'sum', SMALL_SEGMENTS),
    ),
    MessageSizeError,
    'ranks disagreeing on length',
  );
  await t.rejects(
    run(1, (comm) => allReduceRecursiveDoubling(comm, new Float64Array(2), 'bxor')),
    { name: 'TypeError', message: /bxor.*Float64Array/ },
    'bitwise op on floats fails even on one rank',
  );
  await t.rejects(
    run(2, (comm) => broadcastBinomial(comm, new Int32Array(1), 2)),
    {
      name: 'RangeError',
      message: /root 2 is not a rank/,
    },
  );
  await t.rejects(
    run(2, (comm) => allGatherVRing(comm, new Int32Array(3), [3])),
    /counts has 1 entries/,
  );
  await t.rejects(
    run(2, (comm) => gatherVDirect(comm, new Int32Array(3), [2, 2], 0)),
    /passes 3 elements but counts/,
  );
  await t.rejects(
    run(2, (comm) =>
      scatterVDirect(comm, comm.rank === 0 ? [new Int32Array(1)] : undefined, undefined, 0, Int32Array),
    ),
    /must pass one array per rank/,
  );
});

t.test('the in-memory Comm catches zero-copy misuse, lost messages and deadlocks', async (t) => {
  await t.rejects(
    run(2, async (comm) => {
      if (comm.rank === 0) {
        const data = new Uint8Array([1, 2, 3]);
        await comm.send(1, 0, data);
        data[0] = 9; // reused before the peer had it
      } else {
        await comm.recv(0, 0);
      }
    }),
    ZeroCopyViolationError,
  );
  await t.rejects(
    run(2, async (comm) => {
      if (comm.rank === 0) await comm.send(1, 0, new Uint8Array(1));
    }),
    /never received/,
  );
  await t.rejects(
    run(2, async (comm) => {
      await comm.recv(1 - comm.rank, 0);
    }),
    /deadlock/,
  );
  const got = await run(2, async (comm) => {
    if (comm.rank === 0) {
      await comm.send(1, 0, new Uint8Array([7, 8, 9]));
      return 0;
    }
    const buf = await comm.recv(0, 0);
    return buf.byteOffset % 8 === 0 && buf[0] === 7 ? 1 : -1;
  });
  t.same(got, [0, 1], 'delivers a copy at an 8-aligned offset');
});
