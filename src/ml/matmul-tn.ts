import * as tf from '@tensorflow/tfjs';
import { gemmTN, heapGemm, type WasmHeapOwner } from './simd-gemm.js';

interface WasmBackendLike extends WasmHeapOwner {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

/**
 * aᵀ·b ([k,m]ᵀ·[k,n] → [m,n]) with tsrun's SIMD kernel on the wasm heap, or null where it does not apply
 * (another backend, no SIMD, n not a multiple of 4, not float32): the caller then uses tf.matMul.
 * Why: the wasm backend's BatchMatMul with transposeA took 33 ms for the pneumonia head's weight gradient
 * (x [16,401408]ᵀ·dy [16,2]); dyᵀ·x through this kernel reads x once, in a few ms.
 */
export function simdMatMulTransposeA(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D | null {
  if (tf.getBackend() !== 'wasm' || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const [k, m] = a.shape;
  const [kb, n] = b.shape;
  if (k !== kb || n % 4 !== 0 || k === 0) return null;
  const backend = tf.backend() as unknown as WasmBackendLike;
  const g = heapGemm(backend);
  if (g === null) return null;
  const out = backend.makeOutput([m, n], 'float32');
  backend.typedArrayFromHeap(out).fill(0);
  const at = (t: tf.TensorInfo) => (backend.dataIdMap.get(t.dataId) as { memoryOffset: number }).memoryOffset;
  gemmTN(g, at(out), at(a), at(b), k, m, n, m * 4, n * 4, n * 4);
  return tf.engine().makeTensorFromTensorInfo(out) as tf.Tensor2D;
}
