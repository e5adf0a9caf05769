import * as tf from '@tensorflow/tfjs';
import t from 'tap';
import { selectBackend } from '../src/ml/backend.js';
import { maxPool2ReluGrad } from '../src/ml/max-pool-grad.js';
import { maxPool2ReluGradTensor } from '../src/ml/max-pool-grad-simd.js';

// The SIMD relu + 2×2 max-pool gradient (max-pool-grad-simd.ts) against the JS loop it replaces, bit for
// bit: ties (the first maximum wins), all-zero and negative windows (ReLU's zero gradient), several
// channel counts (multiples of 4 take the SIMD path, others the JS fallback).

let seed = 31337;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 31 - 1;
}

t.test('SIMD max-pool + ReLU gradient equals the JS loop exactly', async (t) => {
  await selectBackend('wasm');
  for (const [n, h, w, ch] of [
    [2, 4, 6, 4],
    [1, 6, 10, 12],
    [3, 2, 2, 8],
    [2, 8, 4, 16],
    [1, 4, 4, 3],
  ]) {
    // Few distinct values, many ties and zeros, some negatives (y is a ReLU output, but the rule holds).
    const ys = new Float32Array(n * h * w * ch).map(() => Math.max(-0.25, Math.round(rnd() * 3) / 4));
    const ds = new Float32Array((n * h * w * ch) / 4).map(() => rnd());
    const want = new Float32Array(ys.length);
    maxPool2ReluGrad(want, ys, ds, n, h, w, ch);
    const got = tf.tidy(() =>
      maxPool2ReluGradTensor(
        tf.tensor4d(ys, [n, h, w, ch]),
        tf.tensor4d(ds, [n, h / 2, w / 2, ch]),
      ).dataSync(),
    );
    let differ = 0;
    for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) differ++;
    t.equal(differ, 0, `[${n},${h},${w},${ch}]: ${differ} of ${want.length} values differ`);
  }
});
