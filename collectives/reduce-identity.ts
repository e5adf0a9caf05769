/**
 * The identity element of each reduction op per dtype: what an exclusive scan gives rank 0 (MPI leaves it
 * undefined; a defined value lets callers fold rank 0 like every other rank).
 */

import type { ReduceOp, TypedArray } from '../src/wire/vocabulary.js';
import type { TypedArrayConstructor } from './algorithms/typed-views.js';

const UNSIGNED = new Set<TypedArrayConstructor>([Uint8Array, Uint16Array, Uint32Array, BigUint64Array]);

function isFloatCtor(ctor: TypedArrayConstructor): boolean {
  return ctor === Float32Array || ctor === Float64Array;
}

function isBigCtor(ctor: TypedArrayConstructor): boolean {
  return ctor === BigInt64Array || ctor === BigUint64Array;
}

/** Largest and smallest value of an integer dtype. */
function intRange(ctor: TypedArrayConstructor): { min: number | bigint; max: number | bigint } {
  const bits = ctor.BYTES_PER_ELEMENT * 8;
  if (isBigCtor(ctor)) {
    return UNSIGNED.has(ctor)
      ? { min: 0n, max: (1n << 64n) - 1n }
      : { min: -(1n << 63n), max: (1n << 63n) - 1n };
  }
  return UNSIGNED.has(ctor)
    ? { min: 0, max: 2 ** bits - 1 }
    : { min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 };
}

/** The value e with e ⊕ v = v for every v of the dtype. 'avg' has none (it is not a prefix op). */
export function identityOf(ctor: TypedArrayConstructor, op: ReduceOp): number | bigint {
  const big = isBigCtor(ctor);
  switch (op) {
    case 'sum':
    case 'bor':
    case 'bxor':
      return big ? 0n : 0;
    case 'prod':
      return big ? 1n : 1;
    case 'band':
      // All bits set: -1 stores as every bit in every integer dtype (typed arrays wrap).
      return big ? -1n : -1;
    case 'min':
      return isFloatCtor(ctor) ? Number.POSITIVE_INFINITY : intRange(ctor).max;
    case 'max':
      return isFloatCtor(ctor) ? Number.NEGATIVE_INFINITY : intRange(ctor).min;
    default:
      throw new TypeError(`op '${op}' has no identity element`);
  }
}

/** Fills x with the identity of op (in place). */
export function fillIdentity(x: TypedArray, op: ReduceOp): void {
  const e = identityOf(x.constructor as TypedArrayConstructor, op);
  (x as unknown as { fill(v: number | bigint): void }).fill(e);
}
