import * as tf from '@tensorflow/tfjs';
import { affinePair } from './affine-pair-simd.js';
import { affine, channelMeans } from './channel-ops.js';
import { maxPool2ReluGradTensor } from './max-pool-grad-simd.js';
import { reluGrad } from './relu-grad-simd.js';

/**
 * Training-mode batch norm + ReLU (+ optional 2×2 max-pool) as one op with a hand-written gradient.
 *
 * Why not tfjs's batchNorm/moments: their composite gradient spends most of a step in Tile/Sum kernels
 * on wasm (measured 1.1 s of Tile alone per 16 images at 224²). Why not plain JS loops over the data
 * (the previous version): a pass of JS over 9.6 M floats costs 30-90 ms, a wasm kernel (XNNPACK, SIMD)
 * 3-6 ms, and the JS version also copied every activation out of and back into the wasm heap. So this
 * op is a short list of elementwise/broadcast kernels that the wasm backend runs fast, and avoids the
 * ones it runs slowly: per-channel sums are `ones[1,M] @ x[M,C]` (a matMul, ~10x faster than Sum over
 * axes 0-2, which transposes), max-pool's gradient (first maximum of a window
 * wins, as torch and the cpu backend) is tsrun's SIMD kernel on the wasm heap (the wasm MaxPoolGrad
 * kernel is slow, see max-pool-grad.ts and max-pool-grad-simd.ts); elementwise affine maps are 1×1 depthwise convs.
 *
 * The preceding conv's bias is an input too: batch norm subtracts the batch mean, so the bias cancels in
 * the output and its gradient is exactly 0 (torch's autograd gives rounding noise instead); torch still
 * counts it as a parameter and it enters the running mean, as here.
 */

export interface BatchMoments {
  /** per-channel batch mean of (x + bias) */
  mean: Float64Array;
  /** per-channel biased batch variance */
  variance: Float64Array;
  /** number of values per channel */
  count: number;
}

export interface BnReluOptions {
  eps: number;
  pool: boolean;
  /** receives the batch moments (for the running statistics) */
  onMoments?: (m: BatchMoments) => void;
}

/** bnRelu(x, bias, gamma, beta): x [N,H,W,C] → [N,H,W,C] or, with pool, [N,H/2,W/2,C]. */
export function batchNormRelu(
  x: tf.Tensor4D,
  bias: tf.Tensor1D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  opts: BnReluOptions,
): tf.Tensor4D {
  const [n, h, w, ch] = x.shape;
  if (opts.pool && (h % 2 !== 0 || w % 2 !== 0))
    throw new RangeError(`max-pool 2 needs even H and W, got ${h}×${w}`);
  const count = n * h * w;
  const op = tf.customGrad((xt, bt, gt, bet, save) => {
    const b = (bt as tf.Tensor).dataSync() as Float32Array;
    const g = (gt as tf.Tensor).dataSync() as Float32Array;
    const be = (bet as tf.Tensor).dataSync() as Float32Array;
    const m1 = channelMeans(xt as tf.Tensor, n, h, w, ch);
    const unit = new Float32Array(ch).fill(1);
    const negMean = new Float32Array(ch);
    for (let c = 0; c < ch; c++) negMean[c] = -m1[c];
    // Two passes (centre, then sum squares) instead of E[x²]−E[x]²: float32 sums over ~10⁶ values.
    const cen = affine(xt as tf.Tensor4D, unit, negMean, false);
    const sq = tf.square(cen);
    const m2 = channelMeans(sq, n, h, w, ch);
    sq.dispose();
    const mean = new Float64Array(ch);
    const variance = new Float64Array(ch);
    const invStd = new Float64Array(ch);
    const scale = new Float32Array(ch);
    for (let c = 0; c < ch; c++) {
      mean[c] = -negMean[c] + b[c];
      variance[c] = m2[c];
      invStd[c] = 1 / Math.sqrt(variance[c] + opts.eps);
      scale[c] = g[c] * invStd[c];
    }
    opts.onMoments?.({ mean, variance, count });
    const y = affine(cen, scale, be, true);
    const value = opts.pool ? tf.maxPool(y, 2, 2, 'valid') : y;
    // The forward runs in a tidy of the engine: what the gradient needs must be saved (kept) explicitly.
    (save as tf.GradSaveFunc)([cen, y]);

    const gradFunc = (dOut: tf.Tensor4D, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [cen, y] = saved as [tf.Tensor4D, tf.Tensor4D];
        // ReLU's (and the pool's) gradient: dOut where the output was positive (and won its window).
        const gr = opts.pool ? maxPool2ReluGradTensor(y, dOut) : reluGrad(dOut, y);
        const dBeta = channelMeans(gr, n, h, w, ch).map((v) => v * count);
        const gc = tf.mul(gr, cen);
        const sgc = channelMeans(gc, n, h, w, ch);
        gc.dispose();
        const dGamma = new Float32Array(ch);
        const k = new Float32Array(ch);
        const p = new Float32Array(ch);
        const q = new Float32Array(ch);
        const zero = new Float32Array(ch);
        for (let c = 0; c < ch; c++) {
          dGamma[c] = sgc[c] * count * invStd[c];
          // dx = k·(g − dBeta/M − x̂·dGamma/M) with x̂ = cen·invStd, as k·g + p·cen + q
          const kc = g[c] * invStd[c];
          k[c] = kc;
          p[c] = (-kc * dGamma[c] * invStd[c]) / count;
          q[c] = (-kc * dBeta[c]) / count;
        }
        const dx =
          affinePair(gr, k, cen, p, q) ?? tf.add(affine(gr, k, zero, false), affine(cen, p, q, false));
        return [
          dx,
          // Σ dx per channel = 0 exactly: the bias cancels (see the file comment).
          tf.zeros([ch]),
          tf.tensor1d(dGamma),
          tf.tensor1d(dBeta),
        ];
      });
    return { value, gradFunc };
  });
  return op(x, bias, gamma, beta) as tf.Tensor4D;
}

/** Eval-mode batch norm + ReLU (+ pool) with running statistics, as plain tfjs ops. */
export function batchNormReluEval(
  x: tf.Tensor4D,
  bias: tf.Tensor1D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  runMean: Float32Array,
  runVar: Float32Array,
  eps: number,
  pool: boolean,
): tf.Tensor4D {
  return tf.tidy(() => {
    const y = tf.relu(
      tf.batchNorm(tf.add(x, bias), tf.tensor1d(runMean), tf.tensor1d(runVar), beta, gamma, eps),
    );
    return pool ? tf.maxPool(y as tf.Tensor4D, 2, 2, 'valid') : (y as tf.Tensor4D);
  });
}
