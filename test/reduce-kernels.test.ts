import t from 'tap';
import { assertOpSupported, finishAvg, reduceInto, reduceTo } from '../collectives/reduce-kernels.js';
import { REDUCE_OPS, type ReduceOp, type TypedArray } from '../src/wire/vocabulary.js';

type Ctor = new (length: number) => TypedArray;
const INT_DTYPES: Ctor[] = [Int8Array, Int16Array, Int32Array, Uint8Array, Uint16Array, Uint32Array];
const BIG_DTYPES: Ctor[] = [BigInt64Array, BigUint64Array];
const FLOAT_DTYPES: Ctor[] = [Float32Array, Float64Array];

function bitsOf(ctor: Ctor): { bits: number; signed: boolean } {
  const sample = new ctor(0);
  const signed = !(
    sample instanceof Uint8Array ||
    sample instanceof Uint16Array ||
    sample instanceof Uint32Array ||
    sample instanceof BigUint64Array
  );
  return { bits: sample.BYTES_PER_ELEMENT * 8, signed };
}

/** Reference for integer ops in unbounded BigInt arithmetic, wrapped once at the end. */
function bigReference(a: bigint, b: bigint, op: ReduceOp, bits: number, signed: boolean): bigint {
  let r: bigint;
  switch (op) {
    case 'sum':
    case 'avg':
      r = a + b;
      break;
    case 'prod':
      r = a * b;
      break;
    case 'min':
      r = a < b ? a : b;
      break;
    case 'max':
      r = a > b ? a : b;
      break;
    case 'band':
      r = a & b;
      break;
    case 'bor':
      r = a | b;
      break;
    case 'bxor':
      r = a ^ b;
      break;
  }
  return signed ? BigInt.asIntN(bits, r) : BigInt.asUintN(bits, r);
}

let seed = 12345;
function rand(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed;
}

function randomInts(ctor: Ctor, n: number): TypedArray {
  const { bits, signed } = bitsOf(ctor);
  const out = new ctor(n);
  for (let i = 0; i < n; i++) {
    const raw = (BigInt(rand()) << 32n) | BigInt(rand());
    const v = signed ? BigInt.asIntN(bits, raw) : BigInt.asUintN(bits, raw);
    (out as unknown as (number | bigint)[])[i] = bits === 64 ? v : Number(v);
  }
  // Edge values: extremes wrap on sum and prod.
  if (n > 2) {
    const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
    const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
    (out as unknown as (number | bigint)[])[0] = bits === 64 ? max : Number(max);
    (out as unknown as (number | bigint)[])[1] = bits === 64 ? min : Number(min);
  }
  return out;
}

t.test('integer dtypes match unbounded BigInt arithmetic wrapped to the width', async (t) => {
  for (const ctor of [...INT_DTYPES, ...BIG_DTYPES]) {
    const { bits, signed } = bitsOf(ctor);
    for (const op of REDUCE_OPS) {
      const a = randomInts(ctor, 64);
      const b = randomInts(ctor, 64);
      const dst = a.slice();
      reduceInto(dst, b, op);
      const bad: string[] = [];
      for (let i = 0; i < 64; i++) {
        const expected = bigReference(BigInt(a[i]), BigInt(b[i]), op, bits, signed);
        if (BigInt(dst[i]) !== expected)
          bad.push(`[${i}] ${a[i]} ${op} ${b[i]} = ${dst[i]}, expected ${expected}`);
      }
      t.same(bad, [], `${ctor.name} ${op}`);
    }
  }
});

t.test('float dtypes: sum/prod/min/max/avg as IEEE arithmetic in the dtype', async (t) => {
  for (const ctor of FLOAT_DTYPES) {
    const a = new ctor(6) as Float64Array;
    const b = new ctor(6) as Float64Array;
    a.set([1.5, -2, 0.1, Number.NaN, 3, -0]);
    b.set([2.25, 4, 0.2, 1, Number.NaN, 0]);
    const round = ctor === Float32Array ? Math.fround : (x: number) => x;
    const cases: [ReduceOp, (x: number, y: number) => number][] = [
      ['sum', (x, y) => x + y],
      ['avg', (x, y) => x + y],
      ['prod', (x, y) => x * y],
    ];
    for (const [op, f] of cases) {
      const dst = a.slice();
      reduceInto(dst, b, op);
      for (let i = 0; i < 6; i++) t.ok(Object.is(dst[i], round(f(a[i], b[i]))), `${ctor.name} ${op} [${i}]`);
    }
    const mn = a.slice();
    reduceInto(mn, b, 'min');
    t.same([mn[0], mn[1], mn[2]], [1.5, -2, round(0.1)], `${ctor.name} min`);
    t.ok(Number.isNaN(mn[3]) && Number.isNaN(mn[4]), `${ctor.name} min propagates NaN from either side`);
    const mx = a.slice();
    reduceInto(mx, b, 'max');
    t.same([mx[0], mx[1], mx[2]], [2.25, 4, round(0.2)], `${ctor.name} max`);
    t.ok(Number.isNaN(mx[3]) && Number.isNaN(mx[4]), `${ctor.name} max propagates NaN from either side`);
  }
});

t.test('bitwise ops on floats throw a TypeError naming op and dtype', async (t) => {
  for (const ctor of FLOAT_DTYPES) {
    for (const op of ['band', 'bor', 'bxor'] as ReduceOp[]) {
      const x = new ctor(3);
      t.throws(() => reduceInto(x, new ctor(3), op), {
        name: 'TypeError',
        message: new RegExp(`${op}.*${ctor.name}`),
      });
      t.throws(() => assertOpSupported(x, op), TypeError);
    }
  }
  t.throws(() => assertOpSupported(new Int32Array(1), 'mean' as ReduceOp), {
    name: 'TypeError',
    message: /unknown reduce op 'mean'/,
  });
});

t.test('operands must agree in dtype and length', async (t) => {
  t.throws(() => reduceInto(new Float32Array(3), new Float32Array(4), 'sum'), RangeError);
  t.throws(
    () => reduceInto(new Float32Array(3), new Float64Array(3) as unknown as Float32Array, 'sum'),
    TypeError,
  );
});

t.test('reduceTo may write into either operand and keeps operand order', async (t) => {
  const a = new Int32Array([1, 2, 3]);
  const b = new Int32Array([10, 20, 30]);
  reduceTo(b, a, b, 'sum');
  t.same([...b], [11, 22, 33]);
  const out = new Float64Array(2);
  reduceTo(out, new Float64Array([-0, 0]), new Float64Array([0, -0]), 'min');
  // Ties keep the left operand, so the zero's sign tells the operand order.
  t.ok(Object.is(out[0], -0) && Object.is(out[1], 0));
});

t.test('finishAvg divides floats, truncates integers toward zero, uses BigInt division', async (t) => {
  const f = new Float32Array([1, 2, -7]);
  finishAvg(f, 3);
  t.same([...f], [Math.fround(1 / 3), Math.fround(2 / 3), Math.fround(-7 / 3)]);
  const i = new Int32Array([7, -7, 9, -9]);
  finishAvg(i, 2);
  t.same([...i], [3, -3, 4, -4]);
  const u = new Uint8Array([255, 1]);
  finishAvg(u, 4);
  t.same([...u], [63, 0]);
  const big = new BigInt64Array([7n, -7n, 9223372036854775807n]);
  finishAvg(big, 2);
  t.same([...big], [3n, -3n, 4611686018427387903n]);
  const one = new Float64Array([5]);
  finishAvg(one, 1);
  t.same([...one], [5]);
  t.throws(() => finishAvg(one, 0), RangeError);
});
