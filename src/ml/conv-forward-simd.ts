import { I32, moduleWithImportedMemory, op, V128 } from '../wasm-bytes.js';

// The engine's WebAssembly global, as far as this file uses it (the project's lib settings omit its types).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

/**
 * Stride-1 NHWC convolution of an already padded input, y[n,i,j,co] = Σ_{a,b,ci} xp[n,i+a,j+b,ci]·w[a,b,ci,co],
 * with WebAssembly SIMD on the tfjs wasm heap. For one output pixel and one filter row a, the inputs
 * xp[n,i+a,j..j+kw,:] are kw·Ci contiguous floats and w[a] is a contiguous (kw·Ci)×Co matrix, so an output
 * row is kh GEMM passes with no im2col buffer. The module is assembled per geometry (Ci, Co, kh, kw, padded
 * row length) so every offset is an immediate and the kw·Ci loop is unrolled.
 * Exports `row2(c, a, b, tiles)` and `row1(...)`: `tiles` groups of 2 (or 1) output pixels of one row, each
 * kept in registers as 2×(up to 16) output channels across the whole kh·kw·Ci sum, then stored (not added).
 */

export interface ConvGeometry {
  ci: number;
  co: number;
  kh: number;
  kw: number;
  /** padded input width */
  wp: number;
}

/** Column tiles of at most 4 vectors, as even as possible (5 vectors → 3 + 2, not 4 + 1). */
function columnTiles(vecs: number): { v0: number; v: number }[] {
  const n = Math.ceil(vecs / 4);
  const out: { v0: number; v: number }[] = [];
  let v0 = 0;
  for (let k = 0; k < n; k++) {
    const v = Math.ceil((vecs - v0) / (n - k));
    out.push({ v0, v });
    v0 += v;
  }
  return out;
}

function rowKernel(g: ConvGeometry, rows: number) {
  const { ci, co, kh, kw, wp } = g;
  const [c, a, b, tiles] = [0, 1, 2, 3];
  const [ap, bp, k, t] = [4, 5, 6, 7];
  const acc = (r: number, v: number) => 8 + r * 4 + v;
  const bv = (v: number) => 8 + rows * 4 + v;
  const s = 8 + rows * 4 + 4;
  const taps = kw * ci;
  const code: number[] = [...op.loop];
  for (const { v0, v: vt } of columnTiles(co / 4)) {
    for (let r = 0; r < rows; r++)
      for (let v = 0; v < vt; v++) code.push(...op.v128Zero, ...op.set(acc(r, v)));
    code.push(...op.get(a), ...op.set(ap), ...op.get(b), ...op.set(bp), ...op.i32(kh), ...op.set(k));
    code.push(...op.loop, ...op.i32(taps), ...op.set(t), ...op.loop);
    for (let v = 0; v < vt; v++) code.push(...op.get(bp), ...op.load(16 * (v0 + v)), ...op.set(bv(v)));
    for (let r = 0; r < rows; r++) {
      code.push(...op.get(ap), ...op.splat32(r * ci * 4), ...op.set(s));
      for (let v = 0; v < vt; v++) {
        code.push(...op.get(acc(r, v)), ...op.get(s), ...op.get(bv(v)), ...op.f32x4Mul, ...op.f32x4Add);
        code.push(...op.set(acc(r, v)));
      }
    }
    code.push(...op.get(ap), ...op.i32(4), ...op.add, ...op.set(ap));
    code.push(...op.get(bp), ...op.i32(co * 4), ...op.add, ...op.set(bp));
    code.push(...op.get(t), ...op.i32(1), ...op.sub, ...op.tee(t), ...op.brIf(0), ...op.end);
    code.push(...op.get(ap), ...op.i32((wp * ci - taps) * 4), ...op.add, ...op.set(ap));
    code.push(...op.get(k), ...op.i32(1), ...op.sub, ...op.tee(k), ...op.brIf(0), ...op.end);
    for (let r = 0; r < rows; r++)
      for (let v = 0; v < vt; v++)
        code.push(...op.get(c), ...op.get(acc(r, v)), ...op.store((r * co + 4 * (v0 + v)) * 4));
  }
  code.push(...op.get(a), ...op.i32(rows * ci * 4), ...op.add, ...op.set(a));
  code.push(...op.get(c), ...op.i32(rows * co * 4), ...op.add, ...op.set(c));
  code.push(...op.get(tiles), ...op.i32(1), ...op.sub, ...op.tee(tiles), ...op.brIf(0), ...op.end);
  const locals: [number, number][] = [
    [4, I32],
    [rows * 4 + 4 + 1, V128],
  ];
  return { exportName: `row${rows}`, params: 4, locals, code };
}

type RowFn = (c: number, a: number, b: number, tiles: number) => void;
export interface ConvRowKernels {
  row2: RowFn;
  row1: RowFn;
}

const cache = new WeakMap<object, Map<string, ConvRowKernels>>();

/** Kernels for geometry `g` bound to `memory` (compiled once per geometry), or null without wasm SIMD. */
export function convRowKernels(memory: object, g: ConvGeometry): ConvRowKernels | null {
  let byGeometry = cache.get(memory);
  if (byGeometry === undefined) {
    byGeometry = new Map();
    cache.set(memory, byGeometry);
  }
  const key = `${g.ci},${g.co},${g.kh},${g.kw},${g.wp}`;
  const known = byGeometry.get(key);
  if (known !== undefined) return known;
  try {
    const bytes = moduleWithImportedMemory([rowKernel(g, 2), rowKernel(g, 1)]);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    const k = { row2: inst.exports.row2 as RowFn, row1: inst.exports.row1 as RowFn };
    byGeometry.set(key, k);
    return k;
  } catch {
    return null;
  }
}

/**
 * y = conv(xp, w) for a padded NHWC input xp [n, hp, wp, ci] and filter w [kh, kw, ci, co] (co a multiple
 * of 4), all byte addresses in the kernels' memory; y [n, hp−kh+1, wp−kw+1, co] is overwritten.
 */
export function convPaddedInto(
  k: ConvRowKernels,
  y: number,
  xp: number,
  w: number,
  n: number,
  hp: number,
  g: ConvGeometry,
) {
  const ho = hp - g.kh + 1;
  const wo = g.wp - g.kw + 1;
  const pairs = wo >> 1;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      const a = xp + (b * hp + i) * g.wp * g.ci * 4;
      const c = y + (b * ho + i) * wo * g.co * 4;
      if (pairs > 0) k.row2(c, a, w, pairs);
      if (wo & 1) k.row1(c + 2 * pairs * g.co * 4, a + 2 * pairs * g.ci * 4, w, 1);
    }
  }
}
