import * as tf from '@tensorflow/tfjs';

/**
 * Training-mode batch norm + ReLU (+ optional 2×2 max-pool) as one op with a hand-written gradient,
 * computed in plain loops over the NHWC data. tfjs's composite batchNorm/moments gradient spends most of
 * a step in Tile/Sum/Multiply kernels on wasm (measured 1.1 s of Tile alone per 16 images at 224²); the
 * fused loops take a few tens of ms. The preceding conv's bias is an input too: batch norm subtracts the
 * batch mean, so the bias cancels in the output, but torch still counts it as a parameter and its
 * (≈0) gradient and its effect on the running mean are kept faithful here.
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

function moments(x: Float32Array, bias: Float32Array, channels: number): BatchMoments {
  const count = x.length / channels;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  for (let i = 0; i < x.length; i += channels) {
    for (let c = 0; c < channels; c++) mean[c] += x[i + c];
  }
  for (let c = 0; c < channels; c++) mean[c] /= count;
  for (let i = 0; i < x.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const d = x[i + c] - mean[c];
      variance[c] += d * d;
    }
  }
  for (let c = 0; c < channels; c++) {
    variance[c] /= count;
    mean[c] += bias[c];
  }
  return { mean, variance, count };
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
  const op = tf.customGrad((xt, bt, gt, bet) => {
    const xs = (xt as tf.Tensor).dataSync() as Float32Array;
    const b = (bt as tf.Tensor).dataSync() as Float32Array;
    const g = (gt as tf.Tensor).dataSync() as Float32Array;
    const be = (bet as tf.Tensor).dataSync() as Float32Array;
    const mom = moments(xs, b, ch);
    opts.onMoments?.(mom);
    const xMean = new Float64Array(ch);
    const invStd = new Float64Array(ch);
    for (let c = 0; c < ch; c++) {
      xMean[c] = mom.mean[c] - b[c];
      invStd[c] = 1 / Math.sqrt(mom.variance[c] + opts.eps);
    }
    const scale = new Float32Array(ch);
    const shift = new Float32Array(ch);
    for (let c = 0; c < ch; c++) {
      scale[c] = g[c] * invStd[c];
      shift[c] = be[c] - xMean[c] * scale[c];
    }
    let value: tf.Tensor4D;
    // For pooling: which of the 4 window cells won (0..3), needed to route the gradient back.
    let argmax: Uint8Array | undefined;
    if (opts.pool) {
      const oh = h / 2;
      const ow = w / 2;
      const out = new Float32Array(n * oh * ow * ch);
      argmax = new Uint8Array(out.length);
      const rowStride = w * ch;
      let o = 0;
      for (let b0 = 0; b0 < n; b0++) {
        for (let i = 0; i < oh; i++) {
          const base = (b0 * h + 2 * i) * rowStride;
          for (let j = 0; j < ow; j++) {
            const p0 = base + 2 * j * ch;
            for (let c = 0; c < ch; c++, o++) {
              const s = scale[c];
              const t = shift[c];
              let best = xs[p0 + c] * s + t;
              let k = 0;
              const v1 = xs[p0 + ch + c] * s + t;
              if (v1 > best) {
                best = v1;
                k = 1;
              }
              const v2 = xs[p0 + rowStride + c] * s + t;
              if (v2 > best) {
                best = v2;
                k = 2;
              }
              const v3 = xs[p0 + rowStride + ch + c] * s + t;
              if (v3 > best) {
                best = v3;
                k = 3;
              }
              out[o] = best > 0 ? best : 0;
              argmax[o] = k;
            }
          }
        }
      }
      value = tf.tensor4d(out, [n, oh, ow, ch]);
    } else {
      const out = new Float32Array(xs.length);
      for (let i = 0; i < xs.length; i += ch) {
        for (let c = 0; c < ch; c++) {
          const v = xs[i + c] * scale[c] + shift[c];
          out[i + c] = v > 0 ? v : 0;
        }
      }
      value = tf.tensor4d(out, [n, h, w, ch]);
    }

    const gradFunc = (dyT: tf.Tensor4D) => {
      const dyIn = dyT.dataSync() as Float32Array;
      // dy after ReLU (and un-pooling), dense over x's positions
      const dyr = new Float32Array(xs.length);
      if (argmax !== undefined) {
        const oh = h / 2;
        const ow = w / 2;
        const rowStride = w * ch;
        let o = 0;
        for (let b0 = 0; b0 < n; b0++) {
          for (let i = 0; i < oh; i++) {
            const base = (b0 * h + 2 * i) * rowStride;
            for (let j = 0; j < ow; j++) {
              const p0 = base + 2 * j * ch;
              for (let c = 0; c < ch; c++, o++) {
                const k = argmax[o];
                const pos = p0 + c + (k & 1 ? ch : 0) + (k & 2 ? rowStride : 0);
                if (xs[pos] * scale[c] + shift[c] > 0) dyr[pos] = dyIn[o];
              }
            }
          }
        }
      } else {
        for (let i = 0; i < xs.length; i += ch) {
          for (let c = 0; c < ch; c++) if (xs[i + c] * scale[c] + shift[c] > 0) dyr[i + c] = dyIn[i + c];
        }
      }
      const dBeta = new Float64Array(ch);
      const dGamma = new Float64Array(ch);
      for (let i = 0; i < xs.length; i += ch) {
        for (let c = 0; c < ch; c++) {
          const d = dyr[i + c];
          dBeta[c] += d;
          dGamma[c] += d * (xs[i + c] - xMean[c]) * invStd[c];
        }
      }
      const count = xs.length / ch;
      const k = new Float64Array(ch);
      const a = new Float64Array(ch);
      const bb = new Float64Array(ch);
      for (let c = 0; c < ch; c++) {
        k[c] = g[c] * invStd[c];
        a[c] = dBeta[c] / count;
        bb[c] = (dGamma[c] / count) * invStd[c];
      }
      const dx = dyr; // overwritten in place: each position reads only its own dyr
      const dBias = new Float64Array(ch);
      for (let i = 0; i < xs.length; i += ch) {
        for (let c = 0; c < ch; c++) {
          const v = k[c] * (dyr[i + c] - a[c] - (xs[i + c] - xMean[c]) * bb[c]);
          dx[i + c] = v;
          dBias[c] += v;
        }
      }
      return [
        tf.tensor4d(dx, [n, h, w, ch]),
        tf.tensor1d(Float32Array.from(dBias)),
        tf.tensor1d(Float32Array.from(dGamma)),
        tf.tensor1d(Float32Array.from(dBeta)),
      ];
    };
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
