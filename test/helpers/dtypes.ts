/** The typed-array classes the collectives accept, and the predicates the algorithm tests sort them by. */
import type { TypedArrayConstructor } from '../../collectives/algorithms/typed-views.js';

export const ALL_DTYPES: readonly TypedArrayConstructor[] = [
  Float32Array,
  Float64Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint16Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
];

export const isFloat = (ctor: TypedArrayConstructor) => ctor === Float32Array || ctor === Float64Array;
export const isBig = (ctor: TypedArrayConstructor) => ctor === BigInt64Array || ctor === BigUint64Array;
export const isSigned = (ctor: TypedArrayConstructor) =>
  !(ctor === Uint8Array || ctor === Uint16Array || ctor === Uint32Array || ctor === BigUint64Array);
