/**
 * Element-wise reduction kernels used by every reducing collective.
 *
 * Loops are grouped by dtype family (float, int, bigint): one function per family keeps the element
 * loads and stores in each loop specialised to few typed-array maps, and a program that reduces one
 * dtype (the usual case) keeps them monomorphic. The op switch sits outside the loops so each loop body
 * is one expression with no allocation.
 */
import type { ReduceOp, TypedArray } from '../src/wire/vocabulary.js';
import { simdReduceTo } from './simd-kernels.js';

type FloatArray = Float32Array | Float64Array;
type IntArray = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;
type BigArray = BigInt64Array | BigUint64Array;

const BITWISE_OPS: ReadonlySet<ReduceOp> = new Set<ReduceOp>(['band', 'bor', 'bxor']);
const KNOWN_OPS: ReadonlySet<string> = new Set<string>([
  'sum',
  'prod',
  'min',
  'max',
  'avg',
  'band',
  'bor',
  'bxor',
]);

function isFloat(x: TypedArray): x is FloatArray {
  return x instanceof Float32Array || x instanceof Float64Array;
}

function isBig(x: TypedArray): x is BigArray {
  return x instanceof BigInt64Array || x instanceof BigUint64Array;
}

/** Throws a TypeError when `op` is unknown or undefined on the dtype of `x` (bitwise ops on floats). */
export function assertOpSupported(x: TypedArray, op: ReduceOp): void {
  if (!KNOWN_OPS.has(op)) {
    throw new TypeError(`unknown reduce op '${String(op)}': use one of ${[...KNOWN_OPS].join(', ')}`);
  }
  if (BITWISE_OPS.has(op) && isFloat(x)) {
    throw new TypeError(
      `reduce op '${op}' is defined on integer dtypes only, got ${x.constructor.name}; ` +
        `convert to an integer array or use sum/prod/min/max/avg`,
    );
  }
}

function assertSameShape(out: TypedArray, a: TypedArray, b: TypedArray): void {
  if (out.constructor !== a.constructor || a.constructor !== b.constructor) {
    throw new TypeError(
      `reduce operands differ in dtype: ${out.constructor.name}, ${a.constructor.name}, ${b.constructor.name}`,
    );
  }
  if (out.length !== a.length || a.length !== b.length) {
    throw new RangeError(`reduce operands differ in length: ${out.length}, ${a.length}, ${b.length}`);
  }
}

function floatKernel(out: FloatArray, a: FloatArray, b: FloatArray, op: ReduceOp): void {
  const n = out.length;
  switch (op) {
    case 'sum':
    case 'avg':
      for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
      return;
    case 'prod':
      for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
      return;
    case 'min':
      // NaN propagates from either side, as torch does; ties keep the left operand so the result only
      // depends on operand order, which the algorithms fix.
      for (let i = 0; i < n; i++) {
        const x = a[i];
        const y = b[i];
        out[i] = y < x || Number.isNaN(y) ? y : x;
      }
      return;
    case 'max':
      for (let i = 0; i < n; i++) {
        const x = a[i];
        const y = b[i];
        out[i] = y > x || Number.isNaN(y) ? y : x;
      }
      return;
    default:
      assertOpSupported(out, op);
  }
}

function intKernel(out: IntArray, a: IntArray, b: IntArray, op: ReduceOp): void {
  const n = out.length;
  switch (op) {
    case 'sum':
    case 'avg':
      // The store wraps to the dtype's width, as the typed array does.
      for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
      return;
    case 'prod':
      // Math.imul keeps the exact low 32 bits; a plain double product loses them above 2^53.
      for (let i = 0; i < n; i++) out[i] = Math.imul(a[i], b[i]);
      return;
    case 'min':
      for (let i = 0; i < n; i++) {
        out[i] = Math.min(a[i], b[i]);
      }
      return;
    case 'max':
      for (let i = 0; i < n; i++) {
        out[i] = Math.max(a[i], b[i]);
      }
      return;
    case 'band':
      for (let i = 0; i < n; i++) out[i] = a[i] & b[i];
      return;
    case 'bor':
      for (let i = 0; i < n; i++) out[i] = a[i] | b[i];
      return;
    case 'bxor':
      for (let i = 0; i < n; i++) out[i] = a[i] ^ b[i];
      return;
    default:
      assertOpSupported(out, op);
  }
}

function bigKernel(out: BigArray, a: BigArray, b: BigArray, op: ReduceOp): void {
  const n = out.length;
  switch (op) {
    case 'sum':
    case 'avg':
      for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
      return;
    case 'prod':
      for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
      return;
    case 'min':
      for (let i = 0; i < n; i++) {
        const x = a[i];
        const y = b[i];
        // Not Math.min: it does not accept bigints.
        out[i] = y < x ? y : x;
      }
      return;
    case 'max':
      for (let i = 0; i < n; i++) {
        const x = a[i];
        const y = b[i];
        // Not Math.max: it does not accept bigints.
        out[i] = y > x ? y : x;
      }
      return;
    case 'band':
      for (let i = 0; i < n; i++) out[i] = a[i] & b[i];
      return;
    case 'bor':
      for (let i = 0; i < n; i++) out[i] = a[i] | b[i];
      return;
    case 'bxor':
      for (let i = 0; i < n; i++) out[i] = a[i] ^ b[i];
      return;
    default:
      assertOpSupported(out, op);
  }
}

/**
 * out = a ⊕ b element-wise. `out` may alias `a` or `b` (each element is read before it is written).
 * Operand order matters for bitwise reproducibility of floats: algorithms pass the lower rank's data as `a`.
 * `avg` reduces as `sum`; call finishAvg once on the final result.
 */
export function reduceTo<T extends TypedArray>(out: T, a: T, b: T, op: ReduceOp): void {
  assertSameShape(out, a, b);
  assertOpSupported(out, op);
  if (simdReduceTo(out, a, b, op)) return;
  if (isFloat(out)) floatKernel(out, a as FloatArray, b as FloatArray, op);
  else if (isBig(out)) bigKernel(out, a as BigArray, b as BigArray, op);
  else intKernel(out as IntArray, a as IntArray, b as IntArray, op);
}

/** dst = dst ⊕ src element-wise (same dtype and length). `avg` reduces as `sum`; see finishAvg. */
export function reduceInto<T extends TypedArray>(dst: T, src: T, op: ReduceOp): void {
  reduceTo(dst, dst, src, op);
}

/**
 * Turns a sum of `size` contributions into their average, in place: floats divide, integers truncate
 * toward zero, bigints use BigInt division (which also truncates).
 */
export function finishAvg(x: TypedArray, size: number): void {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`finishAvg: size must be a positive integer, got ${size}`);
  if (size === 1) return;
  const n = x.length;
  if (isFloat(x)) {
    for (let i = 0; i < n; i++) x[i] = x[i] / size;
  } else if (isBig(x)) {
    const d = BigInt(size);
    for (let i = 0; i < n; i++) x[i] = x[i] / d;
  } else {
    const ints = x as IntArray;
    for (let i = 0; i < n; i++) ints[i] = Math.trunc(ints[i] / size);
  }
}
