import * as tf from '@tensorflow/tfjs';
import { moduleWithImportedMemory, op } from '../wasm-bytes.js';
import type { WasmHeapBackend } from './conv-simd.js';

// The engine's WebAssembly global, as far as this file uses it (the project's lib settings omit its types).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

/**
 * out = a·k + (b·p + q) per channel (NHWC, k, p, q of length C), in one WebAssembly SIMD pass over the
 * tfjs heap: batch norm's input gradient. As tfjs ops it was two 1×1 depthwise convs and an Add, three
 * passes writing two temporaries (≈10 ms for 16×224×224×12). The operations are the same, in the same
 * order (a·k, b·p + q, then their sum), so the result is the same bits. Assembled per C (offsets
 * become immediates); needs C a multiple of 4.
 */

function kernel(ch: number) {
  const [out, a, b, consts, pixels] = [0, 1, 2, 3, 4];
  const code: number[] = [...op.loop];
  for (let cv = 0; cv < ch / 4; cv++) {
    const o = cv * 16;
    code.push(...op.get(out));
    code.push(...op.get(a), ...op.load(o), ...op.get(consts), ...op.load(o), ...op.f32x4Mul);
    code.push(...op.get(b), ...op.load(o), ...op.get(consts), ...op.load(ch * 4 + o), ...op.f32x4Mul);
    code.push(...op.get(consts), ...op.load(2 * ch * 4 + o), ...op.f32x4Add, ...op.f32x4Add);
    code.push(...op.store(o));
  }
  for (const p of [out, a, b]) code.push(...op.get(p), ...op.i32(ch * 4), ...op.add, ...op.set(p));
  code.push(...op.get(pixels), ...op.i32(1), ...op.sub, ...op.tee(pixels), ...op.brIf(0), ...op.end);
  return { exportName: 'affinePair', params: 5, locals: [] as [number, number][], code };
}

type AffinePairFn = (out: number, a: number, b: number, consts: number, pixels: number) => void;
const cache = new WeakMap<object, Map<number, AffinePairFn | null>>();

function affinePairKernel(memory: object, ch: number): AffinePairFn | null {
  let byChannels = cache.get(memory);
  if (byChannels === undefined) {
    byChannels = new Map();
    cache.set(memory, byChannels);
  }
  const known = byChannels.get(ch);
  if (known !== undefined) return known;
  let fn: AffinePairFn | null = null;
  try {
    const bytes = moduleWithImportedMemory([kernel(ch)]);
    fn = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports
      .affinePair as AffinePairFn;
  } catch {
    fn = null;
  }
  byChannels.set(ch, fn);
  return fn;
}

/** a·k + (b·p + q) per channel for same-shape NHWC a and b; null where the SIMD kernel does not apply. */
export function affinePair(
  a: tf.Tensor4D,
  k: Float32Array,
  b: tf.Tensor4D,
  p: Float32Array,
  q: Float32Array,
): tf.Tensor4D | null {
  const ch = k.length;
  const pixels = a.size / ch;
  if (tf.getBackend() !== 'wasm' || ch % 4 !== 0 || pixels === 0) return null;
  const be = tf.backend() as unknown as WasmHeapBackend;
  const memory = be.wasm?.asm?.memory;
  if (memory === undefined || !(memory.buffer instanceof ArrayBuffer)) return null;
  const fn = affinePairKernel(memory, ch);
  if (fn === null) return null;
  const consts = new Float32Array(3 * ch);
  consts.set(k, 0);
  consts.set(p, ch);
  consts.set(q, 2 * ch);
  const c = tf.tensor1d(consts);
  const out = be.makeOutput(a.shape, 'float32');
  const at = (t: tf.TensorInfo) => (be.dataIdMap.get(t.dataId) as { memoryOffset: number }).memoryOffset;
  fn(at(out), at(a), at(b), at(c), pixels);
  c.dispose();
  return tf.engine().makeTensorFromTensorInfo(out) as tf.Tensor4D;
}
