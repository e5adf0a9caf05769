/**
 * Index math of the prefix reductions and MAXLOC/MINLOC over the in-memory Comm: world sizes 1..12, every
 * dtype, lengths 0, 1 and 37, each rank's input different, results compared element by element with a
 * plain left-to-right computation done here. Outputs are scribbled over as soon as a rank returns, so an
 * algorithm that leaves caller memory in flight fails.
 */
import t from 'tap';
import {
  allReduceLocRecursiveDoubling,
  combineLoc,
} from '../collectives/algorithms/allreduce-loc-recursive-doubling.js';
import { scanRecursiveDoubling } from '../collectives/algorithms/scan-recursive-doubling.js';
import type { TypedArrayConstructor } from '../collectives/algorithms/typed-views.js';
import { identityOf } from '../collectives/reduce-identity.js';
import type { ReduceOp, TypedArray } from '../src/wire/vocabulary.js';
import { ALL_DTYPES, isBig, isFloat, isSigned } from './helpers/dtypes.js';
import { MemoryWorld } from './helpers/memory-comm.js';

const DTYPES = ALL_DTYPES;
const SIZES = Array.from({ length: 12 }, (_, i) => i + 1);
const LENGTHS = [0, 1, 37];
type Cell = number | bigint;
const cells = (x: TypedArray) => x as unknown as Cell[];

/** Rank r's element i: differs by rank; floats are small dyadic values so every order sums exactly. */
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

function input(ctor: TypedArrayConstructor, op: ReduceOp, r: number, n: number): TypedArray {
  const x = new ctor(n);
  for (let i = 0; i < n; i++) cells(x)[i] = valueAt(ctor, op, r, i);
  return x;
}

/** op over ranks lo..hi-1 (left to right), or the identity when the range is empty. */
function fold(ctor: TypedArrayConstructor, op: ReduceOp, hi: number, n: number): TypedArray {
  const out = new ctor(n);
  const bits = ctor.BYTES_PER_ELEMENT * 8;
  const wrap = (v: bigint) => (isSigned(ctor) ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v));
  for (let i = 0; i < n; i++) {
    if (hi === 0) {
      cells(out)[i] = identityOf(ctor, op);
      continue;
    }
    if (isFloat(ctor)) {
      let acc = valueAt(ctor, op, 0, i) as number;
      for (let r = 1; r < hi; r++) {
        const v = valueAt(ctor, op, r, i) as number;
        acc =
          op === 'sum'
            ? acc + v
            : op === 'prod'
              ? acc * v
              : op === 'min'
                ? Math.min(acc, v)
                : Math.max(acc, v);
      }
      cells(out)[i] = acc;
    } else {
      let acc = BigInt(valueAt(ctor, op, 0, i));
      for (let r = 1; r < hi; r++) {
        const v = BigInt(valueAt(ctor, op, r, i));
        if (op === 'sum') acc += v;
        else if (op === 'prod') acc *= v;
        else if (op === 'min') acc = acc < v ? acc : v;
        else if (op === 'max') acc = acc > v ? acc : v;
        else if (op === 'band') acc &= v;
        else if (op === 'bor') acc |= v;
        else acc ^= v;
      }
      cells(out)[i] = isBig(ctor) ? wrap(acc) : Number(wrap(acc));
    }
  }
  return out;
}

function diff(actual: TypedArray, expected: TypedArray): string | undefined {
  if (actual.constructor !== expected.constructor) return `dtype ${actual.constructor.name}`;
  if (actual.length !== expected.length) return `length ${actual.length} != ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(cells(actual)[i], cells(expected)[i]))
      return `[${i}] = ${cells(actual)[i]}, want ${cells(expected)[i]}`;
  }
  return undefined;
}

const scribble = (a: TypedArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).fill(0x5a);
let seed = 1;

t.test('scan and exscan: every dtype and op on 1..12 ranks', async (t) => {
  let cases = 0;
  const problems: string[] = [];
  for (const ctor of DTYPES) {
    const ops: ReduceOp[] = isFloat(ctor)
      ? ['sum', 'prod', 'min', 'max']
      : ['sum', 'prod', 'min', 'max', 'band', 'bor', 'bxor'];
    for (const size of SIZES) {
      for (const n of LENGTHS) {
        for (const op of ops) {
          for (const exclusive of [false, true]) {
            const got = await new MemoryWorld(size, { seed: seed++ }).run(async (comm) => {
              const x = input(ctor, op, comm.rank, n);
              const y = await scanRecursiveDoubling(comm, x, op, exclusive);
              const copy = y.slice();
              if (y !== x) problems.push('did not return x');
              scribble(x);
              return copy;
            });
            got.forEach((g, r) => {
              const why = diff(g, fold(ctor, op, exclusive ? r : r + 1, n));
              if (why)
                problems.push(
                  `${ctor.name} ${op} ${exclusive ? 'exscan' : 'scan'} p=${size} n=${n} rank ${r}: ${why}`,
                );
            });
            cases++;
          }
        }
      }
    }
  }
  t.same(problems.slice(0, 5), [], `${cases} cases, every rank's prefix equals the plain fold`);
});

t.test("scan refuses 'avg' and bitwise ops on floats", async (t) => {
  const w = new MemoryWorld(1);
  await t.rejects(scanRecursiveDoubling(w.comms[0], new Float64Array(2), 'avg', false), TypeError);
  await t.rejects(scanRecursiveDoubling(w.comms[0], new Float64Array(2), 'band', false), TypeError);
});

t.test('identity elements', async (t) => {
  t.equal(identityOf(Int8Array, 'min'), 127);
  t.equal(identityOf(Int8Array, 'max'), -128);
  t.equal(identityOf(Uint16Array, 'min'), 65535);
  t.equal(identityOf(Uint32Array, 'max'), 0);
  t.equal(identityOf(BigInt64Array, 'min'), 2n ** 63n - 1n);
  t.equal(identityOf(BigUint64Array, 'min'), 2n ** 64n - 1n);
  t.equal(identityOf(Float32Array, 'max'), Number.NEGATIVE_INFINITY);
  t.equal(identityOf(Int32Array, 'band'), -1);
  t.equal(identityOf(Float64Array, 'prod'), 1);
  t.throws(() => identityOf(Float64Array, 'avg'), TypeError);
});

/** Plain MAXLOC/MINLOC over ranks: first strictly better value wins, so ties keep the lowest rank. */
function locReference(
  ctor: TypedArrayConstructor,
  op: 'max' | 'min',
  size: number,
  n: number,
  gen: (r: number, i: number) => Cell,
) {
  const values = new ctor(n);
  const ranks = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = gen(0, i);
    let at = 0;
    for (let r = 1; r < size; r++) {
      const v = gen(r, i);
      if (op === 'max' ? v > best : v < best) {
        best = v;
        at = r;
      }
    }
    cells(values)[i] = best;
    ranks[i] = at;
  }
  return { values, ranks };
}

t.test('allReduceLoc: every dtype on 1..12 ranks, ties go to the lowest rank', async (t) => {
  const problems: string[] = [];
  let cases = 0;
  for (const ctor of DTYPES) {
    for (const size of SIZES) {
      for (const n of LENGTHS) {
        for (const op of ['max', 'min'] as const) {
          // Few distinct values, so most elements tie between several ranks.
          const gen = (r: number, i: number): Cell => {
            const v = ((r * 5 + i * 3) % 4) - (isSigned(ctor) ? 2 : 0);
            return isBig(ctor) ? BigInt(v) : v;
          };
          const got = await new MemoryWorld(size, { seed: seed++ }).run(async (comm) => {
            const x = new ctor(n);
            for (let i = 0; i < n; i++) cells(x)[i] = gen(comm.rank, i);
            const before = x.slice();
            const res = await allReduceLocRecursiveDoubling(comm, x, op);
            if (diff(x, before)) problems.push('x was modified');
            const copy = { values: res.values.slice(), ranks: res.ranks.slice() };
            scribble(res.values);
            scribble(res.ranks);
            return copy;
          });
          const want = locReference(ctor, op, size, n, gen);
          got.forEach((g, r) => {
            const why = diff(g.values, want.values) ?? diff(g.ranks, want.ranks);
            if (why) problems.push(`${ctor.name} ${op} p=${size} n=${n} rank ${r}: ${why}`);
          });
          cases++;
        }
      }
    }
  }
  t.same(problems.slice(0, 5), [], `${cases} cases agree with the plain scan over ranks`);
});

t.test('combineLoc: NaN wins, lowest rank among NaNs; order of operands does not matter', async (t) => {
  const a = new Float64Array([Number.NaN, 1, 2, Number.NaN]);
  const ar = new Int32Array([3, 0, 5, 1]);
  const b = new Float64Array([5, Number.NaN, 2, Number.NaN]);
  const br = new Int32Array([1, 2, 4, 0]);
  for (const op of ['max', 'min'] as const) {
    const v1 = new Float64Array(4);
    const r1 = new Int32Array(4);
    const v2 = new Float64Array(4);
    const r2 = new Int32Array(4);
    combineLoc(v1, r1, a, ar, b, br, op);
    combineLoc(v2, r2, b, br, a, ar, op);
    t.same([...r1], [3, 2, 4, 0], `${op}: ranks`);
    t.same([...r2], [...r1], `${op}: commutative`);
    t.ok(Number.isNaN(v1[0]) && Number.isNaN(v1[1]) && v1[2] === 2 && Number.isNaN(v1[3]), `${op}: values`);
  }
});
