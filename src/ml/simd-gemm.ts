import { moduleWithImportedMemory, op, V128 } from '../wasm-bytes.js';

// The engine's WebAssembly global, as far as this file uses it (the project's lib settings omit its types).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

/**
 * C += Aᵀ·B for row-major strips that live in another module's wasm memory (the tfjs wasm heap), with
 * WebAssembly SIMD: C[r][c] += Σ_t A[t·aStride + r]·B[t·bStride + c]. This is the shape of a conv filter
 * gradient (t runs over pixels, A's rows are input pixels, B's rows are output-gradient pixels) and of a
 * dense layer's weight gradient; XNNPACK has no kernel for it that avoids repacking a whole tensor.
 *
 * Each exported micro-kernel `gR_V(c, a, b, len, aStride, bStride, cStride)` (byte addresses and strides)
 * keeps an R×(4V) tile of C in registers over all `len` steps, then adds it to C once. The accumulators start
 * at zero on each call, so a call's `len` terms are summed first and then added (a blocked sum).
 */

const MAX_R = 4;
const MAX_V = 4;

function microKernel(r: number, v: number) {
  const [c, a, b, len, aStride, bStride, cStride] = [0, 1, 2, 3, 4, 5, 6];
  const acc = (i: number, j: number) => 7 + i * v + j;
  const bv = (j: number) => 7 + r * v + j;
  const s = 7 + r * v + v;
  const code: number[] = [...op.loop];
  for (let j = 0; j < v; j++) code.push(...op.get(b), ...op.load(16 * j), ...op.set(bv(j)));
  for (let i = 0; i < r; i++) {
    code.push(...op.get(a), ...op.splat32(4 * i), ...op.set(s));
    for (let j = 0; j < v; j++) {
      code.push(...op.get(acc(i, j)), ...op.get(s), ...op.get(bv(j)), ...op.f32x4Mul, ...op.f32x4Add);
      code.push(...op.set(acc(i, j)));
    }
  }
  code.push(...op.get(a), ...op.get(aStride), ...op.add, ...op.set(a));
  code.push(...op.get(b), ...op.get(bStride), ...op.add, ...op.set(b));
  code.push(...op.get(len), ...op.i32(1), ...op.sub, ...op.tee(len), ...op.brIf(0), ...op.end);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < v; j++) {
      code.push(...op.get(c), ...op.get(c), ...op.load(16 * j), ...op.get(acc(i, j)), ...op.f32x4Add);
      code.push(...op.store(16 * j));
    }
    if (i + 1 < r) code.push(...op.get(c), ...op.get(cStride), ...op.add, ...op.set(c));
  }
  return { exportName: `g${r}_${v}`, params: 7, locals: [[r * v + v + 1, V128]] as [number, number][], code };
}

type MicroKernel = (
  c: number,
  a: number,
  b: number,
  len: number,
  aStride: number,
  bStride: number,
  cStride: number,
) => void;

export interface GemmTN {
  /** kernels[r-1][v-1] */
  kernels: MicroKernel[][];
  memory: object;
}

const byMemory = new WeakMap<object, GemmTN | null>();

/** The kernels bound to `memory` (a WebAssembly.Memory), or null when this engine has no wasm SIMD. */
export function gemmFor(memory: object): GemmTN | null {
  const known = byMemory.get(memory);
  if (known !== undefined) return known;
  let out: GemmTN | null = null;
  try {
    const fns = [];
    for (let r = 1; r <= MAX_R; r++) for (let v = 1; v <= MAX_V; v++) fns.push(microKernel(r, v));
    const bytes = moduleWithImportedMemory(fns);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    const kernels: MicroKernel[][] = [];
    for (let r = 1; r <= MAX_R; r++) {
      kernels.push([]);
      for (let v = 1; v <= MAX_V; v++) kernels[r - 1].push(inst.exports[`g${r}_${v}`] as MicroKernel);
    }
    out = { kernels, memory };
  } catch {
    out = null;
  }
  byMemory.set(memory, out);
  return out;
}

/** What heapGemm needs of the tfjs wasm backend: its Emscripten module's memory. */
export interface WasmHeapOwner {
  wasm?: { asm?: { memory?: { buffer: ArrayBufferLike } } };
}

/**
 * The kernels bound to the wasm backend's heap, or null: no SIMD, or the threaded build's shared memory
 * (the module imports an unshared one).
 */
export function heapGemm(backend: WasmHeapOwner): GemmTN | null {
  const memory = backend.wasm?.asm?.memory;
  if (memory === undefined || !(memory.buffer instanceof ArrayBuffer)) return null;
  return gemmFor(memory);
}

/**
 * Tile shape, measured on the pneumonia CNN's filter gradients (V8 on x86-64, ms for 16 images at 224²):
 * 2×4 (8 accumulators) 52/23/20 for Ci×Co = 20×32, 12×20, 3×12; 4×2: 57/25/17; 3×3, 4×3, 4×4, 2×5 and
 * wider were 1.5–2× slower (V8 spills beyond ~13 live vectors). 4×2 wins when C has fewer than 4 vectors
 * per row.
 */
function tileFor(vecs: number): { r: number; v: number } {
  return vecs >= 4 ? { r: 2, v: 4 } : { r: 4, v: 2 };
}

/**
 * C[rows × cols] += Σ_{t<len} A[t]ᵀ B[t] over byte addresses in the bound memory; `cols` must be a multiple
 * of 4 (one f32x4 per 4 columns), `len` ≥ 1. Strides are in bytes.
 */
export function gemmTN(
  g: GemmTN,
  c: number,
  a: number,
  b: number,
  len: number,
  rows: number,
  cols: number,
  aStride: number,
  bStride: number,
  cStride: number,
): void {
  const vecs = cols >> 2;
  const { r: tr, v: tv } = tileFor(vecs);
  for (let r0 = 0; r0 < rows; r0 += tr) {
    const r = Math.min(tr, rows - r0);
    const row = g.kernels[r - 1];
    for (let v0 = 0; v0 < vecs; v0 += tv) {
      const v = Math.min(tv, vecs - v0);
      row[v - 1](c + r0 * cStride + 16 * v0, a + 4 * r0, b + 16 * v0, len, aStride, bStride, cStride);
    }
  }
}
