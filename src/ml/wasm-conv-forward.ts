import * as tf from '@tensorflow/tfjs';
import { conv2dSimd, type WasmHeapBackend } from './conv-simd.js';

/**
 * The wasm backend's Conv2D, run by tsrun's SIMD kernel when it applies (stride 1, dilation 1, NHWC,
 * output channels a multiple of 4) and by the backend's own XNNPACK kernel otherwise. Measured at 16×224²
 * on the pneumonia CNN: conv1 22 → 11 ms (+ padding), conv2 30 → 18, conv3 65 → 44, with the same bits
 * (XNNPACK's summation order). Registered before the backend initializes, so the XNNPACK kernel's setup
 * (its cwrap of the C entry point) still runs and the fallback works.
 */

type Conv2DAttrs = {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};
type Args = {
  inputs: { x: tf.TensorInfo; filter: tf.TensorInfo };
  backend: WasmHeapBackend;
  attrs: Conv2DAttrs;
};

let xnnpack: tf.KernelConfig | undefined;

/** The backend's own Conv2D (XNNPACK), for callers that need it whatever the shape. */
export function xnnpackConv2D(): (args: object) => tf.TensorInfo {
  const k = xnnpack ?? tf.getKernel('Conv2D', 'wasm');
  if (k === undefined)
    throw new Error('wasm backend has no Conv2D kernel; is @tensorflow/tfjs-backend-wasm 4.x installed?');
  return k.kernelFunc as unknown as (args: object) => tf.TensorInfo;
}

const pair = (v: number | [number, number]) => (Array.isArray(v) ? v : [v, v]);

function conv2d(args: Args): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const [sh, sw] = pair(attrs.strides);
  const [dh, dw] = pair(attrs.dilations ?? 1);
  if (sh === 1 && sw === 1 && dh === 1 && dw === 1 && attrs.dataFormat !== 'NCHW') {
    const info = tf.backend_util.computeConv2DInfo(
      inputs.x.shape as [number, number, number, number],
      inputs.filter.shape as [number, number, number, number],
      1,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const y = conv2dSimd(backend, inputs.x, inputs.filter, info.padInfo);
    if (y !== null) return y;
  }
  return xnnpackConv2D()(args);
}

let registered = false;

/** Idempotent; must run before the wasm backend initializes (backend.ts does so). */
export function registerWasmConvForward(): void {
  if (registered) return;
  registered = true;
  xnnpack = tf.getKernel('Conv2D', 'wasm');
  if (xnnpack !== undefined) tf.unregisterKernel('Conv2D', 'wasm');
  tf.registerKernel({
    kernelName: 'Conv2D',
    backendName: 'wasm',
    setupFunc: xnnpack?.setupFunc,
    kernelFunc: conv2d as unknown as tf.KernelFunc,
  });
}
