import * as tf from '@tensorflow/tfjs';

/**
 * Per-channel building blocks for NHWC tensors that the wasm backend runs in one fast pass each; the
 * measured alternatives (CPU ms for 16×224×224×12 on this machine) are in each comment.
 */

/**
 * Per-channel means as one average pool over all N·H rows and W columns: XNNPACK's pooling reads the
 * data once (1.9 ms). Sum over axes 0-2 takes 33 ms (it transposes first), matMul(ones[1,M], x[M,C])
 * 64 ms (XNNPACK packs x as weights).
 */
export function channelMeans(x: tf.Tensor, n: number, h: number, w: number, ch: number): Float32Array {
  const m = tf.avgPool(tf.reshape(x, [1, n * h, w, ch]) as tf.Tensor4D, [n * h, w], 1, 'valid');
  const out = m.dataSync() as Float32Array;
  m.dispose();
  return out;
}

/**
 * x·scale + shift per channel, then ReLU if asked, as a 1×1 depthwise conv with bias: one XNNPACK pass
 * (4 ms), where mul/add with a [C] operand take the generic broadcasting path (12 ms each). The kernel
 * is called directly: tf.fused.depthwiseConv2d splits a ReLU off into separate Add + Relu kernels
 * whenever a gradient is being recorded (its own gradient needs that), even inside a customGrad forward
 * where nothing is recorded.
 */
export function affine(x: tf.Tensor4D, scale: Float32Array, shift: Float32Array, relu: boolean): tf.Tensor4D {
  const ch = scale.length;
  const filter = tf.tensor4d(scale, [1, 1, ch, 1]);
  const bias = tf.tensor1d(shift);
  const y = tf.engine().runKernel(
    'FusedDepthwiseConv2D',
    { x, filter, bias },
    {
      strides: [1, 1],
      pad: 'valid',
      dataFormat: 'NHWC',
      dilations: [1, 1],
      activation: relu ? 'relu' : 'linear',
    },
  ) as tf.Tensor4D;
  tf.dispose([filter, bias]);
  return y;
}
