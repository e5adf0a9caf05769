/**
 * WebAssembly SIMD versions of the reductions whose SIMD result is bit-for-bit the JS kernel's
 * (reduce-kernels.ts): float sum and product (JS rounds the exact double result once, as IEEE single/double
 * ops do), integer sum and product (both wrap to the element width), and the bitwise ops. min and max stay
 * in JS: their NaN and ±0 rules differ from wasm's.
 *
 * Why: a JS loop over a Float32Array converts every element to a double and back, ~2 ns an element here; the
 * large all-reduce spent half its time in it. Wasm cannot see the caller's arrays, so both operands are
 * copied in 64 KiB pieces into a 128 KiB module memory (two pieces stay in L2 across the copy, the op and the
 * copy back), which still makes a 32 MiB float32 sum 4-5x faster than the JS loop on this machine.
 *
 * The module is assembled here from its bytes (no build step, no download): one exported function per
 * vector op, `f(nbytes)`, computing A[i] = A[i] op B[i] over A = [0, PIECE) and B = [PIECE, 2 PIECE).
 */

import { leb, name, section } from '../src/wasm-bytes.js';
import type { ReduceOp, TypedArray } from '../src/wire/vocabulary.js';

// The engine's WebAssembly global, as far as this file uses it (the project's lib settings omit its types).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
};

const PIECE = 64 * 1024;
/** Below this many bytes the JS loop wins (the copies and the call cost more than they save). */
export const SIMD_MIN_BYTES = 4096;

/** SIMD opcodes (after the 0xfd prefix) of the WebAssembly SIMD proposal, final numbering. */
const OPCODE = {
  and: 0x4e,
  or: 0x50,
  xor: 0x51,
  i8add: 0x6e,
  i16add: 0x8e,
  i16mul: 0x95,
  i32add: 0xae,
  i32mul: 0xb5,
  i64add: 0xce,
  i64mul: 0xd5,
  f32add: 0xe4,
  f32mul: 0xe6,
  f64add: 0xf0,
  f64mul: 0xf2,
} as const;
type VectorOp = keyof typeof OPCODE;

/** for (i = 0; i < n; i += 16) A[i..i+16) = op(A[i..i+16), B[i..i+16)) with n = param 0, i = local 1. */
function body(opcode: number): number[] {
  const memarg = (offset: number) => [0x04, ...leb(offset)];
  const code = [
    ...[0x01, 0x01, 0x7f], // one i32 local
    ...[0x02, 0x40, 0x03, 0x40], // block, loop
    ...[0x20, 0x01, 0x20, 0x00, 0x4f, 0x0d, 0x01], // if i >= n break
    ...[0x20, 0x01], // store address
    ...[0x20, 0x01, 0xfd, 0x00, ...memarg(0)], // v128.load A
    ...[0x20, 0x01, 0xfd, 0x00, ...memarg(PIECE)], // v128.load B
    ...[0xfd, ...leb(opcode)],
    ...[0xfd, 0x0b, ...memarg(0)], // v128.store A
    ...[0x20, 0x01, 0x41, 0x10, 0x6a, 0x21, 0x01], // i += 16
    ...[0x0c, 0x00, 0x0b, 0x0b, 0x0b], // br loop, end loop, end block, end
  ];
  return [...leb(code.length), ...code];
}

function moduleBytes(): Uint8Array {
  const ops = Object.keys(OPCODE) as VectorOp[];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [0x01, 0x60, 0x01, 0x7f, 0x00]), // type 0: (i32) -> ()
    ...section(3, [...leb(ops.length), ...ops.map(() => 0x00)]),
    ...section(5, [0x01, 0x00, 0x02]), // one memory, 2 pages
    ...section(7, [
      ...leb(ops.length + 1),
      ...name('mem'),
      0x02,
      0x00,
      ...ops.flatMap((op, i) => [...name(op), 0x00, ...leb(i)]),
    ]),
    ...section(10, [...leb(ops.length), ...ops.flatMap((op) => body(OPCODE[op]))]),
  ]);
}

interface Simd {
  memory: Uint8Array;
  fns: Record<VectorOp, (nbytes: number) => void>;
}

let simd: Simd | null | undefined;

/** The compiled module, or null where the engine has no WebAssembly SIMD (then the JS loops run). */
function load(): Simd | null {
  if (simd !== undefined) return simd;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()));
    const exports = instance.exports;
    simd = {
      memory: new Uint8Array((exports.mem as { buffer: ArrayBuffer }).buffer),
      fns: exports as unknown as Simd['fns'],
    };
  } catch {
    simd = null;
  }
  return simd;
}

function vectorOp(x: TypedArray, op: ReduceOp): VectorOp | undefined {
  const sumLike = op === 'sum' || op === 'avg';
  if (op === 'band') return 'and';
  if (op === 'bor') return 'or';
  if (op === 'bxor') return 'xor';
  if (!sumLike && op !== 'prod') return undefined;
  if (x instanceof Float32Array) return sumLike ? 'f32add' : 'f32mul';
  if (x instanceof Float64Array) return sumLike ? 'f64add' : 'f64mul';
  if (x instanceof Int32Array || x instanceof Uint32Array) return sumLike ? 'i32add' : 'i32mul';
  if (x instanceof Int16Array || x instanceof Uint16Array) return sumLike ? 'i16add' : 'i16mul';
  if (x instanceof BigInt64Array || x instanceof BigUint64Array) return sumLike ? 'i64add' : 'i64mul';
  if (x instanceof Int8Array || x instanceof Uint8Array) return sumLike ? 'i8add' : undefined;
  return undefined;
}

const bytes = (x: TypedArray) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);

/**
 * out = a ⊕ b with WebAssembly SIMD when it gives the JS kernel's exact bits; false (nothing written) when
 * it does not apply: op/dtype pairs it does not cover, small arrays, or no SIMD in this engine. Same shapes
 * assumed (the caller checked). `out` may alias `a` or `b`.
 */
export function simdReduceTo(out: TypedArray, a: TypedArray, b: TypedArray, op: ReduceOp): boolean {
  if (out.byteLength < SIMD_MIN_BYTES) return false;
  const v = vectorOp(out, op);
  if (v === undefined) return false;
  const s = load();
  if (!s) return false;
  const fn = s.fns[v];
  const mem = s.memory;
  const o = bytes(out);
  const ab = bytes(a);
  const bb = bytes(b);
  const total = o.byteLength;
  for (let at = 0; at < total; at += PIECE) {
    const len = Math.min(PIECE, total - at);
    mem.set(ab.subarray(at, at + len), 0);
    mem.set(bb.subarray(at, at + len), PIECE);
    // A tail shorter than 16 bytes is computed on whatever follows it in the pieces and not copied back.
    fn((len + 15) & ~15);
    o.set(mem.subarray(0, len), at);
  }
  return true;
}
