import * as tf from '@tensorflow/tfjs';
import { affine, channelMeans } from './channel-ops.js';
import { reluGrad } from './relu-grad-simd.js';

/**
 * relu(x + bias) per channel, NHWC, with a hand-written gradient. It replaces the bias and activation
 * of tf.fused.conv2d: under a gradient tape tfjs unfuses that op into Add (generic broadcast, 12 ms
 * for 16×112×112×20) + Relu, and its gradient goes through Cast + Step + Multiply and a Sum over axes
 * 0-2 for the bias (27 ms, a transpose); here forward is one 1×1 depthwise pass, ReLU's gradient one SIMD
 * pass (relu-grad-simd.ts) and the bias gradient an average pool (see channel-ops.ts).
 */
export function biasRelu(x: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
  const [n, h, w, ch] = x.shape;
  const op = tf.customGrad((xt, bt, save) => {
    const b = (bt as tf.Tensor).dataSync() as Float32Array;
    const y = affine(xt as tf.Tensor4D, new Float32Array(ch).fill(1), b, true);
    (save as tf.GradSaveFunc)([y]);
    const gradFunc = (dy: tf.Tensor4D, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const g = reluGrad(dy, saved[0] as tf.Tensor4D);
        const count = n * h * w;
        return [g, tf.tensor1d(channelMeans(g, n, h, w, ch).map((v) => v * count))];
      });
    return { value: y, gradFunc };
  });
  return op(x, bias) as tf.Tensor4D;
}
