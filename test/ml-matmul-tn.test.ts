import * as tf from '@tensorflow/tfjs';
import t from 'tap';
import { selectBackend } from '../src/ml/backend.js';
import { dense } from '../src/ml/dense.js';
import { simdMatMulTransposeA } from '../src/ml/matmul-tn.js';
import { seededFloats } from './helpers/seeded-floats.js';

// aᵀ·b through tsrun's SIMD kernel against a plain JS loop, on shapes that hit every tile remainder, and
// the dense layer's weight gradient (which uses it) against tfjs's cpu backend.

const data = seededFloats(4242);

function worstDiff(got: ArrayLike<number>, want: ArrayLike<number>): { worst: number; scale: number } {
  let worst = 0;
  let scale = 1;
  for (let i = 0; i < want.length; i++) {
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return { worst, scale };
}

t.test('simdMatMulTransposeA equals aᵀ·b', async (t) => {
  await selectBackend('wasm');
  for (const [k, m, n] of [
    [5, 3, 12],
    [16, 2, 400],
    [7, 9, 36],
    [1, 1, 4],
    [33, 5, 20],
  ]) {
    const as = data(k * m);
    const bs = data(k * n);
    const a = tf.tensor2d(as, [k, m]);
    const b = tf.tensor2d(bs, [k, n]);
    const got = simdMatMulTransposeA(a, b);
    tf.dispose([a, b]);
    if (got === null) {
      t.fail(`[${k},${m}]ᵀ·[${k},${n}]: SIMD kernel unavailable`);
      continue;
    }
    t.same(got.shape, [m, n]);
    const g = got.dataSync();
    got.dispose();
    const want = new Float64Array(m * n);
    for (let s = 0; s < k; s++)
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) want[i * n + j] += as[s * m + i] * bs[s * n + j];
    const { worst, scale } = worstDiff(g, want);
    t.ok(worst <= 1e-6 * scale, `[${k},${m}]ᵀ·[${k},${n}]: max diff ${worst} (scale ${scale})`);
  }
  const [a, b] = [tf.zeros([3, 2]) as tf.Tensor2D, tf.zeros([3, 6]) as tf.Tensor2D];
  t.equal(simdMatMulTransposeA(a, b), null, 'columns not a multiple of 4: null, the caller uses tf.matMul');
  tf.dispose([a, b]);
});

t.test('dense weight gradient through the SIMD kernel matches the cpu backend', async (t) => {
  const [n, k] = [6, 44];
  const xs = data(n * k);
  const ws = data(k * 2);
  const up = data(n * 2);
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor2d(xs, [n, k]);
      const b = tf.zeros([2]) as tf.Tensor1D;
      const f = (w: tf.Tensor) => tf.sum(tf.mul(dense(x, w as tf.Tensor2D, b), tf.tensor2d(up, [n, 2])));
      return tf
        .grad(f)(tf.tensor2d(ws, [k, 2]))
        .dataSync() as Float32Array;
    });
  await selectBackend('wasm');
  const ours = run();
  await selectBackend('cpu');
  const ref = run();
  const { worst, scale } = worstDiff(ours, ref);
  t.ok(worst <= 1e-5 * scale, `dw: max diff ${worst} (scale ${scale})`);
});
