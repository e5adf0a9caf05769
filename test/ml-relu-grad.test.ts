import * as tf from '@tensorflow/tfjs';
import t from 'tap';
import { selectBackend } from '../src/ml/backend.js';
import { reluGrad } from '../src/ml/relu-grad-simd.js';

// The SIMD ReLU gradient against tfjs's mul(dy, step(y)) on the same inputs: equal values (=== treats
// the −0 that dy·0 can give and the mask's +0 as equal), y exactly 0 included (gradient 0, as torch).

let seed = 1618;
function data(n: number, zeros: boolean): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const v = seed / 2 ** 31 - 1;
    out[i] = zeros && i % 3 === 0 ? 0 : v;
  }
  return out;
}

t.test('reluGrad equals mul(dy, step(y))', async (t) => {
  await selectBackend('wasm');
  for (const shape of [[4], [2, 3, 5, 4], [1, 7, 9, 12], [2, 3, 3, 3]]) {
    const size = shape.reduce((a, b) => a * b, 1);
    const dys = data(size, false);
    const ys = data(size, true);
    const [got, want] = tf.tidy(() => {
      const dy = tf.tensor(dys, shape);
      const y = tf.tensor(ys, shape);
      return [reluGrad(dy, y).dataSync(), tf.mul(dy, tf.step(y)).dataSync()];
    });
    let differ = 0;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) differ++;
    t.equal(differ, 0, `[${shape}]: ${differ} of ${want.length} values differ`);
  }
});
