// The SIMD reductions must give the JS loops' exact bits (the algorithms' reproducibility depends on every
// rank computing the same thing however it computes it). Compared element by element on random data that
// includes NaN, infinities, ±0, subnormals and wrap-around (NaN payloads aside, see sameBits), at lengths with and without a 16-byte tail,
// on views with odd offsets and with out aliasing either operand.
import t from 'tap';
import { reduceTo } from '../collectives/reduce-kernels.js';
import { SIMD_MIN_BYTES, simdReduceTo } from '../collectives/simd-kernels.js';
import type { ReduceOp, TypedArray } from '../src/wire/vocabulary.js';

type Ctor = new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => TypedArray;
const DTYPES: Ctor[] = [
  Float32Array,
  Float64Array,
  Int8Array,
  Uint8Array,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
];
const OPS: ReduceOp[] = ['sum', 'avg', 'prod', 'band', 'bor', 'bxor', 'min', 'max'];

let seed = 12345;
function rand(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32;
}

/** Random bytes, with some special float values written in for the float dtypes. */
function randomArray(ctor: Ctor, length: number, offsetElems: number): TypedArray {
  const bpe = (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const buf = new ArrayBuffer((length + offsetElems) * bpe);
  const bytes = new Uint8Array(buf);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
  const x = new ctor(buf, offsetElems * bpe, length);
  if (x instanceof Float32Array || x instanceof Float64Array) {
    const special = [Number.NaN, Number.POSITIVE_INFINITY, -0, 0, 1e-310, 1e-40, 3.5, -2.25, 1e30];
    for (let i = 0; i < length; i++) {
      const r = rand();
      if (r < 0.1) x[i] = special[Math.floor(rand() * special.length)];
      else if (r < 0.6) x[i] = (rand() - 0.5) * 10 ** Math.floor(rand() * 8 - 4);
    }
  }
  return x;
}

/**
 * Equal bits, except that any NaN equals any NaN: which NaN a sum of two NaNs keeps depends on the operand
 * order of the machine instruction, which even the JS loop does not fix (V8's optimizing compiler may swap
 * it), so NaN payloads are not part of the contract.
 */
function sameBits(x: TypedArray, y: TypedArray): boolean {
  if (x instanceof Float32Array || x instanceof Float64Array) {
    const u = x instanceof Float32Array ? Uint32Array : BigUint64Array;
    const xb = new u(x.buffer as ArrayBuffer, x.byteOffset, x.length);
    const yb = new u(y.buffer as ArrayBuffer, y.byteOffset, y.length);
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(x[i]) && Number.isNaN(y[i] as number)) continue;
      if (xb[i] !== yb[i]) return false;
    }
    return true;
  }
  return (
    Buffer.compare(
      Buffer.from(x.buffer, x.byteOffset, x.byteLength),
      Buffer.from(y.buffer, y.byteOffset, y.byteLength),
    ) === 0
  );
}

t.test('SIMD and JS reductions agree bit for bit', async (t) => {
  let simdCases = 0;
  for (const ctor of DTYPES) {
    const bpe = (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    for (const bytes of [SIMD_MIN_BYTES, 70_000, 3 * 65_536 + 8]) {
      const length = Math.floor(bytes / bpe);
      for (const op of OPS) {
        if (
          (op === 'band' || op === 'bor' || op === 'bxor') &&
          (ctor === Float32Array || ctor === Float64Array)
        )
          continue;
        const a = randomArray(ctor, length, 1);
        const b = randomArray(ctor, length, 0);
        const js = a.slice();
        const simd = a.slice();
        // The JS loops, forced: reduceTo on pieces below the SIMD threshold.
        const step = Math.max(1, Math.floor((SIMD_MIN_BYTES - 1) / bpe));
        for (let i = 0; i < length; i += step) {
          const e = Math.min(length, i + step);
          reduceTo(js.subarray(i, e), js.subarray(i, e), b.subarray(i, e) as never, op);
        }
        const used = simdReduceTo(simd, simd, b, op);
        if (used) simdCases++;
        else reduceTo(simd, simd, b as never, op);
        const name = `${ctor.name} ${op} ${length} elements (${used ? 'simd' : 'js'})`;
        if (!sameBits(js, simd)) t.fail(name);
        // out aliasing b, the other operand order
        const js2 = b.slice();
        const simd2 = b.slice();
        for (let i = 0; i < length; i += step) {
          const e = Math.min(length, i + step);
          reduceTo(js2.subarray(i, e), a.subarray(i, e) as never, js2.subarray(i, e), op);
        }
        if (!simdReduceTo(simd2, a, simd2, op)) reduceTo(simd2, a as never, simd2, op);
        if (!sameBits(js2, simd2)) t.fail(`${name}, out aliasing b`);
      }
    }
  }
  t.ok(simdCases >= 60, `${simdCases} cases ran on SIMD`);
});

t.test('reduceTo uses SIMD where it applies and gives exact float32 sums', async (t) => {
  const n = 1 << 16;
  const a = new Float32Array(n).map((_, i) => Math.sin(i));
  const b = new Float32Array(n).map((_, i) => Math.cos(i) * 1e-3);
  const out = new Float32Array(n);
  reduceTo(out, a, b, 'sum');
  for (let i = 0; i < n; i += 997) t.equal(out[i], Math.fround(a[i] + b[i]), `element ${i}`);
});

t.test('small arrays and min/max stay on the JS loops', async (t) => {
  t.notOk(simdReduceTo(new Float32Array(16), new Float32Array(16), new Float32Array(16), 'sum'));
  const big = new Float32Array(1 << 14);
  t.notOk(simdReduceTo(big, big, big, 'min'));
  t.notOk(simdReduceTo(big, big, big, 'max'));
  t.notOk(simdReduceTo(new Int8Array(1 << 14), new Int8Array(1 << 14), new Int8Array(1 << 14), 'prod'));
});
