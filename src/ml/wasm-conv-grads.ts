import * as tf from '@tensorflow/tfjs';
import { conv2dFilterGradInto } from './conv-filter-grad-simd.js';
import { conv2dSimd, type WasmHeapBackend } from './conv-simd.js';
import { UnsupportedConvError } from './errors.js';
import { type GemmTN, heapGemm } from './simd-gemm.js';
import { xnnpackConv2D } from './wasm-conv-forward.js';

/**
 * Conv2D gradients for the wasm backend, expressed as forward Conv2D calls so XNNPACK does the work:
 * - Conv2DBackpropFilter is missing from tfjs-backend-wasm 4.x. With WebAssembly SIMD and Co a multiple
 *   of 4 it runs as tsrun's own kernel straight on the heap (conv-filter-grad-simd.ts: 57 ms for the
 *   pneumonia conv3 at 16×224², against 183 ms for the form below, which repacks all of dy as XNNPACK
 *   weights on every call). Otherwise dW[a,b,ci,co] = Σ_{n,i,j} x[n,i+a-p,j+b-p,ci]·dy[n,i,j,co] is
 *   computed as a conv of x laid out [Ci,H,W,N] (channels as batch, batch as channels) with dy laid out
 *   [Ho,Wo,N,Co] as the filter: output [Ci,kh,kw,Co].
 * - Conv2DBackpropInput exists but goes through XNNPACK's deconvolution, measured ~10x slower than a
 *   forward conv here; dx is the conv of dy with the filter rotated 180° and its channels swapped, run by
 *   tsrun's SIMD conv (conv-simd.ts; 75 → 45 ms for the pneumonia conv3) or else XNNPACK's.
 * FusedConv2D's gradient (tfjs-core's fused conv) calls these same two kernels, so it is covered too.
 * Only stride 1 / dilation 1 (what the pneumonia CNN uses); anything else throws a clear error.
 */

type Backend = {
  disposeData(dataId: object): boolean;
  makeOutput?(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap?(t: tf.TensorInfo): Float32Array;
  dataIdMap?: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm?: { asm?: { memory?: { buffer: ArrayBufferLike } } };
};
type Conv2DAttrs = {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | number[][];
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
};
type FilterGradAttrs = Conv2DAttrs & { filterShape: [number, number, number, number] };
type InputGradAttrs = Conv2DAttrs & { inputShape: [number, number, number, number] };
type KernelArgs<A> = { inputs: Record<string, tf.TensorInfo>; backend: Backend; attrs: A };
type Call = (args: { inputs: object; backend: Backend; attrs: object }) => tf.TensorInfo;

function wasmKernel(name: string): Call {
  const k = tf.getKernel(name, 'wasm');
  if (k === undefined)
    throw new Error(`wasm backend has no ${name} kernel; is @tensorflow/tfjs-backend-wasm 4.x installed?`);
  return k.kernelFunc as unknown as Call;
}

function checkStride(kernel: string, attrs: Conv2DAttrs): void {
  const s = Array.isArray(attrs.strides) ? attrs.strides : [attrs.strides, attrs.strides];
  const d = attrs.dilations ?? 1;
  const dd = Array.isArray(d) ? d : [d, d];
  if (s[0] !== 1 || s[1] !== 1 || dd[0] !== 1 || dd[1] !== 1 || attrs.dataFormat === 'NCHW') {
    throw new UnsupportedConvError(kernel, `strides ${s}, dilations ${dd}, dataFormat ${attrs.dataFormat}`);
  }
}

function padOf(xShape: number[], filterShape: number[], attrs: Conv2DAttrs) {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    1,
    1,
    attrs.pad as 'same',
    attrs.dimRoundingMode,
  );
  return info.padInfo;
}

/** dW accumulated strip by strip straight from x and dy on the heap (see conv-filter-grad-simd.ts). */
function filterGradSimd(
  g: GemmTN,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  attrs: FilterGradAttrs,
  backend: Backend,
) {
  const b = backend as Required<Backend>;
  const [kh, kw, ci, co] = attrs.filterShape;
  const [n, h, w] = x.shape;
  const [, ho, wo] = dy.shape;
  const p = padOf(x.shape, attrs.filterShape, attrs);
  const out = b.makeOutput(attrs.filterShape, 'float32');
  b.typedArrayFromHeap(out).fill(0);
  const at = (t: tf.TensorInfo) => (b.dataIdMap.get(t.dataId) as { memoryOffset: number }).memoryOffset;
  conv2dFilterGradInto(g, at(out), at(x), at(dy), {
    n,
    h,
    w,
    ci,
    ho,
    wo,
    co,
    kh,
    kw,
    padTop: p.top,
    padLeft: p.left,
  });
  return out;
}

function conv2dBackpropFilter({ inputs, backend, attrs }: KernelArgs<FilterGradAttrs>): tf.TensorInfo {
  checkStride('Conv2DBackpropFilter', attrs);
  const { x, dy } = inputs;
  const simd = attrs.filterShape[3] % 4 === 0 ? heapGemm(backend) : null;
  if (simd !== null && x.dtype === 'float32' && dy.dtype === 'float32')
    return filterGradSimd(simd, x, dy, attrs, backend);
  const transpose = wasmKernel('Transpose');
  const conv = xnnpackConv2D();
  const p = padOf(x.shape, attrs.filterShape, attrs);
  const xT = transpose({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } });
  const dyT = transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } });
  const pad = [
    [0, 0],
    [p.top, p.bottom],
    [p.left, p.right],
    [0, 0],
  ];
  const g = conv({
    inputs: { x: xT, filter: dyT },
    backend,
    attrs: { strides: 1, pad, dataFormat: 'NHWC', dilations: 1 },
  });
  backend.disposeData(xT.dataId);
  backend.disposeData(dyT.dataId);
  const out = transpose({ inputs: { x: g }, backend, attrs: { perm: [1, 2, 0, 3] } });
  backend.disposeData(g.dataId);
  return out;
}

function conv2dBackpropInput({ inputs, backend, attrs }: KernelArgs<InputGradAttrs>): tf.TensorInfo {
  checkStride('Conv2DBackpropInput', attrs);
  const { dy, filter } = inputs;
  const [kh, kw] = filter.shape;
  const p = padOf(attrs.inputShape, filter.shape, attrs);
  const reversed = wasmKernel('Reverse')({ inputs: { x: filter }, backend, attrs: { dims: [0, 1] } });
  const flipped = wasmKernel('Transpose')({
    inputs: { x: reversed },
    backend,
    attrs: { perm: [0, 1, 3, 2] },
  });
  backend.disposeData(reversed.dataId);
  const pad = [
    [0, 0],
    [kh - 1 - p.top, kh - 1 - p.bottom],
    [kw - 1 - p.left, kw - 1 - p.right],
    [0, 0],
  ];
  const simd = conv2dSimd(backend as unknown as WasmHeapBackend, dy, flipped, {
    top: pad[1][0],
    bottom: pad[1][1],
    left: pad[2][0],
    right: pad[2][1],
  });
  const dx =
    simd ??
    xnnpackConv2D()({
      inputs: { x: dy, filter: flipped },
      backend,
      attrs: { strides: 1, pad, dataFormat: 'NHWC', dilations: 1 },
    });
  backend.disposeData(flipped.dataId);
  return dx;
}

let registered = false;

/** Idempotent: registers tsrun's conv gradient kernels on the wasm backend (replacing the slow one). */
export function registerWasmConvGrads(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
  });
  if (tf.getKernel('Conv2DBackpropInput', 'wasm') !== undefined)
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc,
  });
}
