import * as tf from '@tensorflow/tfjs';
import { I32, moduleWithImportedMemory, op, V128 } from '../wasm-bytes.js';
import type { WasmHeapBackend } from './conv-simd.js';
import { maxPool2ReluGrad } from './max-pool-grad.js';
import { jsKernel } from './tensor-views.js';

// The engine's WebAssembly global, as far as this file uses it (the project's lib settings omit its types).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

/**
 * maxPool2ReluGrad (max-pool-grad.ts) with WebAssembly SIMD on the tfjs heap, 4 channels at a time: the
 * JS loop took 44 ms for 16×224×224×12 (a data-dependent branch per value); this is branch-free (the
 * window's first maximum by the same strict comparisons, as lane masks) and writes every output once, so
 * no memset either. Same results as the JS loop, bit for bit. Assembled per (W, C) so offsets are
 * immediates; needs C a multiple of 4.
 */

const SIMD = {
  gt: [0xfd, 0x44],
  not: [0xfd, 0x4d],
  and: [0xfd, 0x4e],
  andnot: [0xfd, 0x4f],
  or: [0xfd, 0x50],
  bitselect: [0xfd, 0x52],
};

function kernel(w: number, ch: number) {
  const [out, y, d, rows] = [0, 1, 2, 3];
  const j = 4;
  const [v0, v1, v2, v3, g01, g2, g3, best, dv] = [5, 6, 7, 8, 9, 10, 11, 12, 13];
  const ow = w / 2;
  const right = ch * 4;
  const below = w * ch * 4;
  const code: number[] = [...op.loop, ...op.i32(ow), ...op.set(j), ...op.loop];
  for (let cv = 0; cv < ch / 4; cv++) {
    const o = cv * 16;
    const at = [o, right + o, below + o, below + right + o];
    const vs = [v0, v1, v2, v3];
    for (let k = 0; k < 4; k++) code.push(...op.get(y), ...op.load(at[k]), ...op.set(vs[k]));
    // best = first maximum: a later value wins only if strictly greater (the JS loop's `>`)
    code.push(...op.get(v1), ...op.get(v0), ...SIMD.gt, ...op.set(g01));
    code.push(...op.get(v1), ...op.get(v0), ...op.get(g01), ...SIMD.bitselect, ...op.set(best));
    code.push(...op.get(v2), ...op.get(best), ...SIMD.gt, ...op.set(g2));
    code.push(...op.get(v2), ...op.get(best), ...op.get(g2), ...SIMD.bitselect, ...op.set(best));
    code.push(...op.get(v3), ...op.get(best), ...SIMD.gt, ...op.set(g3));
    code.push(...op.get(v3), ...op.get(best), ...op.get(g3), ...SIMD.bitselect, ...op.set(best));
    // dOut where the winner is > 0 (ReLU's gradient), else 0
    code.push(
      ...op.get(d),
      ...op.load(o),
      ...op.get(best),
      ...op.v128Zero,
      ...SIMD.gt,
      ...SIMD.and,
      ...op.set(dv),
    );
    const masks = [
      [...op.get(g01), ...op.get(g2), ...SIMD.or, ...op.get(g3), ...SIMD.or, ...SIMD.not],
      [...op.get(g01), ...op.get(g2), ...SIMD.andnot, ...op.get(g3), ...SIMD.andnot],
      [...op.get(g2), ...op.get(g3), ...SIMD.andnot],
      [...op.get(g3)],
    ];
    for (let k = 0; k < 4; k++)
      code.push(...op.get(out), ...op.get(dv), ...masks[k], ...SIMD.and, ...op.store(at[k]));
  }
  for (const [p, step] of [
    [y, 2 * ch * 4],
    [out, 2 * ch * 4],
    [d, ch * 4],
  ])
    code.push(...op.get(p), ...op.i32(step), ...op.add, ...op.set(p));
  code.push(...op.get(j), ...op.i32(1), ...op.sub, ...op.tee(j), ...op.brIf(0), ...op.end);
  // skip the second row of each window pair: it was read through the `below` offsets
  code.push(...op.get(y), ...op.i32(below), ...op.add, ...op.set(y));
  code.push(...op.get(out), ...op.i32(below), ...op.add, ...op.set(out));
  code.push(...op.get(rows), ...op.i32(1), ...op.sub, ...op.tee(rows), ...op.brIf(0), ...op.end);
  const locals: [number, number][] = [
    [1, I32],
    [9, V128],
  ];
  return { exportName: 'poolGrad', params: 4, locals, code };
}

type PoolGradFn = (out: number, y: number, d: number, rows: number) => void;
const cache = new WeakMap<object, Map<string, PoolGradFn | null>>();

function poolGradKernel(memory: object, w: number, ch: number): PoolGradFn | null {
  let byShape = cache.get(memory);
  if (byShape === undefined) {
    byShape = new Map();
    cache.set(memory, byShape);
  }
  const key = `${w},${ch}`;
  const known = byShape.get(key);
  if (known !== undefined) return known;
  let fn: PoolGradFn | null = null;
  try {
    const bytes = moduleWithImportedMemory([kernel(w, ch)]);
    fn = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports
      .poolGrad as PoolGradFn;
  } catch {
    fn = null;
  }
  byShape.set(key, fn);
  return fn;
}

/**
 * The gradient of relu then 2×2 max-pool for y [n,h,w,ch] (the ReLU output) and dOut [n,h/2,w/2,ch]:
 * the SIMD kernel on wasm when ch is a multiple of 4, else the JS loop on zero-copy views.
 */
export function maxPool2ReluGradTensor(y: tf.Tensor4D, dOut: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, ch] = y.shape;
  const b = tf.backend() as unknown as WasmHeapBackend;
  const memory = tf.getBackend() === 'wasm' ? b.wasm?.asm?.memory : undefined;
  const fn =
    memory !== undefined && memory.buffer instanceof ArrayBuffer && ch % 4 === 0 && n * h * w > 0
      ? poolGradKernel(memory, w, ch)
      : null;
  if (fn === null)
    return jsKernel([n, h, w, ch], [y, dOut], (out, yv, dv) =>
      maxPool2ReluGrad(out, yv, dv, n, h, w, ch),
    ) as tf.Tensor4D;
  const out = b.makeOutput([n, h, w, ch], 'float32');
  const at = (t: tf.TensorInfo) => (b.dataIdMap.get(t.dataId) as { memoryOffset: number }).memoryOffset;
  fn(at(out), at(y), at(dOut), n * (h / 2));
  return tf.engine().makeTensorFromTensorInfo(out) as tf.Tensor4D;
}
