/**
 * The dtype table: which typed-array class each DType code stands for, and zero-copy conversions
 * between typed arrays and the byte frames they travel in. Elements travel in platform byte order;
 * every platform Node supports for tsrun is little-endian, checked once at load.
 */
import { endianness } from 'node:os';
import { DType, MAX_DTYPE } from './enums.js';
import { MalformedFrameError, WireTypeError } from './errors.js';
import type { TypedArray } from './vocabulary.js';

if (endianness() !== 'LE') {
  throw new Error(
    'tsrun wire: big-endian hosts are not supported (typed arrays travel as little-endian bytes)',
  );
}

type TypedArrayConstructor = {
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

// Index = DType code; index 0 (None) has no class.
const CTORS: readonly (TypedArrayConstructor | undefined)[] = [
  undefined,
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
const WIDTHS: readonly number[] = [0, 4, 8, 1, 2, 4, 1, 2, 4, 8, 8];

// Keyed by %TypedArray%.prototype[Symbol.toStringTag], which subclasses such as Buffer inherit.
const BY_TAG = new Map<string, DType>([
  ['Float32Array', DType.Float32],
  ['Float64Array', DType.Float64],
  ['Int8Array', DType.Int8],
  ['Int16Array', DType.Int16],
  ['Int32Array', DType.Int32],
  ['Uint8Array', DType.Uint8],
  ['Uint16Array', DType.Uint16],
  ['Uint32Array', DType.Uint32],
  ['BigInt64Array', DType.BigInt64],
  ['BigUint64Array', DType.BigUint64],
]);

const DTYPE_NAMES: readonly string[] = Object.keys(DType);

/** Human-readable name of a dtype code, for error messages. */
export function dtypeName(d: number): string {
  return DTYPE_NAMES[d] ?? `unknown(${d})`;
}

/** The dtype of a supported typed array, or undefined for anything else (incl. DataView, Uint8ClampedArray). */
export function dtypeOrUndefined(x: unknown): DType | undefined {
  if (!ArrayBuffer.isView(x) || x instanceof DataView) return undefined;
  return BY_TAG.get((x as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag]);
}

export function dtypeOf(x: TypedArray): DType {
  const d = dtypeOrUndefined(x);
  if (d === undefined) {
    const what = ArrayBuffer.isView(x) ? (x as object).constructor.name : typeof x;
    throw new WireTypeError(
      `dtypeOf: ${what} is not a supported typed array (use Float32/64, Int8/16/32, Uint8/16/32, BigInt64 or BigUint64 arrays)`,
    );
  }
  return d;
}

function ctorOf(d: DType, caller: string): TypedArrayConstructor {
  const ctor = CTORS[d];
  if (ctor === undefined)
    throw new WireTypeError(`${caller}: dtype ${dtypeName(d)} has no typed-array class`);
  return ctor;
}

export function bytesPerElement(d: DType): number {
  if (!(d >= 1 && d <= MAX_DTYPE))
    throw new WireTypeError(`bytesPerElement: dtype ${dtypeName(d)} has no width`);
  return WIDTHS[d];
}

/**
 * A typed array over `bytes`: a zero-copy view when bytes.byteOffset is a multiple of the element width
 * (typed arrays cannot be unaligned), otherwise an aligned copy.
 */
export function typedArrayFor(d: DType, bytes: Uint8Array): TypedArray {
  const ctor = ctorOf(d, 'typedArrayFor');
  const width = ctor.BYTES_PER_ELEMENT;
  const n = bytes.byteLength;
  if (n % width !== 0) {
    throw new MalformedFrameError(
      `typed payload: ${n} bytes is not a multiple of the ${dtypeName(d)} element width ${width}`,
    );
  }
  if (bytes.byteOffset % width === 0) return new ctor(bytes.buffer, bytes.byteOffset, n / width);
  const copy = new ctor(n / width);
  new Uint8Array(copy.buffer, 0, n).set(bytes);
  return copy;
}

export function allocTyped(d: DType, count: number): TypedArray {
  return new (ctorOf(d, 'allocTyped'))(count);
}

export function bytesOf(x: TypedArray): Uint8Array {
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}
