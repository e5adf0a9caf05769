import * as tf from '@tensorflow/tfjs';
import { moduleWithImportedMemory, op } from '../wasm-bytes.js';
import type { WasmHeapBackend } from './conv-simd.js';

// The engine's WebAssembly global, as far as this file uses it (the project's lib settings omit its types).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

/**
 * ReLU's gradient, dy where y > 0 else 0, as one WebAssembly SIMD pass over the tfjs heap (a lane mask
 * and an AND). As tfjs ops it is Step then Multiply: two passes and a temporary (≈5 ms for
 * 16×112×112×32). Same values; a masked-out lane is +0 where dy·0 could be −0 (no sum can tell).
 */

const F32X4_GT = [0xfd, 0x44];
const V128_AND = [0xfd, 0x4e];

function kernel() {
  const [out, dy, y, vecs] = [0, 1, 2, 3];
  const code = [...op.loop, ...op.get(out), ...op.get(dy), ...op.load(0)];
  code.push(...op.get(y), ...op.load(0), ...op.v128Zero, ...F32X4_GT, ...V128_AND, ...op.store(0));
  for (const p of [out, dy, y]) code.push(...op.get(p), ...op.i32(16), ...op.add, ...op.set(p));
  code.push(...op.get(vecs), ...op.i32(1), ...op.sub, ...op.tee(vecs), ...op.brIf(0), ...op.end);
  return { exportName: 'reluGrad', params: 4, locals: [] as [number, number][], code };
}

type ReluGradFn = (out: number, dy: number, y: number, vecs: number) => void;
const cache = new WeakMap<object, ReluGradFn | null>();

function reluGradKernel(memory: object): ReluGradFn | null {
  const known = cache.get(memory);
  if (known !== undefined) return known;
  let fn: ReluGradFn | null = null;
  try {
    const bytes = moduleWithImportedMemory([kernel()]);
    fn = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports
      .reluGrad as ReluGradFn;
  } catch {
    fn = null;
  }
  cache.set(memory, fn);
  return fn;
}

/** dy·(y > 0) for same-shape float32 tensors: the SIMD pass on wasm (size a multiple of 4), else tfjs ops. */
export function reluGrad<T extends tf.Tensor>(dy: T, y: T): T {
  const be = tf.backend() as unknown as WasmHeapBackend;
  const memory = tf.getBackend() === 'wasm' ? be.wasm?.asm?.memory : undefined;
  const fn =
    memory !== undefined && memory.buffer instanceof ArrayBuffer && dy.size % 4 === 0 && dy.size > 0
      ? reluGradKernel(memory)
      : null;
  if (fn === null) return tf.mul(dy, tf.step(y)) as T;
  const out = be.makeOutput(dy.shape, 'float32');
  const at = (t: tf.TensorInfo) => (be.dataIdMap.get(t.dataId) as { memoryOffset: number }).memoryOffset;
  fn(at(out), at(dy), at(y), dy.size / 4);
  return tf.engine().makeTensorFromTensorInfo(out) as T;
}
