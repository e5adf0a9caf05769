import type * as tf from '@tensorflow/tfjs';
import { convPaddedInto, convRowKernels } from './conv-forward-simd.js';

/** The parts of tfjs-backend-wasm's BackendWasm that running a heap kernel needs. */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  disposeData(dataId: object): boolean;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { asm?: { memory?: { buffer: ArrayBufferLike } } };
}

export interface Pads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

const offsetOf = (b: WasmHeapBackend, t: tf.TensorInfo) =>
  (b.dataIdMap.get(t.dataId) as { memoryOffset: number }).memoryOffset;

/**
 * x [n,h,w,c] zero-padded on the heap, row by row with copyWithin: tfjs's PadV2 kernel took 10 ms for the
 * pneumonia conv1 input (3 channels), a generic per-element loop; this is a few memcpys per image row.
 */
function padOnHeap(b: WasmHeapBackend, x: tf.TensorInfo, p: Pads): tf.TensorInfo {
  const [n, h, w, c] = x.shape;
  const hp = h + p.top + p.bottom;
  const wp = w + p.left + p.right;
  const out = b.makeOutput([n, hp, wp, c], 'float32');
  const heap = b.typedArrayFromHeap(out);
  const base = heap.byteOffset >> 2;
  const src = offsetOf(b, x) >> 2;
  const f32 = new Float32Array(heap.buffer);
  const row = wp * c;
  for (let i = 0; i < n; i++) {
    const img = base + i * hp * row;
    f32.fill(0, img, img + p.top * row);
    for (let r = 0; r < h; r++) {
      const at = img + (p.top + r) * row;
      f32.fill(0, at, at + p.left * c);
      f32.copyWithin(at + p.left * c, src + (i * h + r) * w * c, src + (i * h + r + 1) * w * c);
      f32.fill(0, at + (p.left + w) * c, at + row);
    }
    f32.fill(0, img + (p.top + h) * row, img + hp * row);
  }
  return out;
}

/**
 * Stride-1 NHWC conv of x [n,h,w,ci] with filter [kh,kw,ci,co] and zero padding `p`, through tsrun's SIMD
 * kernel (conv-forward-simd.ts); null where it does not apply (co not a multiple of 4, negative padding,
 * empty output, shared memory or no SIMD): the caller then uses XNNPACK. Its sums run in XNNPACK's order
 * (filter row, column, input channel), so results are the same bits.
 */
export function conv2dSimd(
  b: WasmHeapBackend,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  p: Pads,
): tf.TensorInfo | null {
  const [n, h, w, ci] = x.shape;
  const [kh, kw, fci, co] = filter.shape;
  const memory = b.wasm.asm?.memory;
  if (memory === undefined || !(memory.buffer instanceof ArrayBuffer)) return null;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || fci !== ci || co % 4 !== 0) return null;
  if (Math.min(p.top, p.bottom, p.left, p.right) < 0) return null;
  const hp = h + p.top + p.bottom;
  const wp = w + p.left + p.right;
  if (n === 0 || hp < kh || wp < kw) return null;
  const g = { ci, co, kh, kw, wp };
  const k = convRowKernels(memory, g);
  if (k === null) return null;
  const padded = p.top + p.bottom + p.left + p.right > 0;
  const xp = padded ? padOnHeap(b, x, p) : x;
  const y = b.makeOutput([n, hp - kh + 1, wp - kw + 1, co], 'float32');
  convPaddedInto(k, offsetOf(b, y), offsetOf(b, xp), offsetOf(b, filter), n, hp, g);
  if (padded) b.disposeData(xp.dataId);
  return y;
}
