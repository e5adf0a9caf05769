import * as tf from '@tensorflow/tfjs';
import { simdMatMulTransposeA } from './matmul-tn.js';

/**
 * x @ w + b with a gradient that suits the wasm backend. tfjs's own matMul gradient computes dx as
 * matMul(dy, w, transposeB) — measured 57 ms CPU for the pneumonia head (dy [16,2], w [401408,2]),
 * because XNNPACK then packs the 401408-row w as weights in its transposed layout; transposing w first
 * (0.8 M floats) and multiplying plainly takes 25 ms. dw is (dyᵀ·x)ᵀ through tsrun's SIMD kernel
 * (matmul-tn.ts) where it applies; else matMul(x, dy, transposeA), the fastest of the tfjs forms measured
 * (an explicit transpose of the 6.4 M-float x costs more than it saves).
 */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  const op = tf.customGrad((xt, wt, bt, save) => {
    (save as tf.GradSaveFunc)([xt as tf.Tensor, wt as tf.Tensor]);
    const value = tf.add(tf.matMul(xt as tf.Tensor2D, wt as tf.Tensor2D), bt as tf.Tensor) as tf.Tensor2D;
    const gradFunc = (dy: tf.Tensor2D, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dwT = simdMatMulTransposeA(dy, xs);
        return [
          tf.matMul(dy, tf.transpose(ws) as tf.Tensor2D),
          dwT === null ? tf.matMul(xs, dy, true, false) : tf.transpose(dwT),
          tf.sum(dy, 0),
        ];
      });
    return { value, gradFunc };
  });
  return op(x, w, b) as tf.Tensor2D;
}
