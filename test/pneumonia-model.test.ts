import * as tf from '@tensorflow/tfjs';
import t from 'tap';
import { GradientComputer } from '../experiments/pneumonia/gradients.js';
import {
  BatchNormState,
  forward,
  initParams,
  paramCount,
  paramSpecs,
} from '../experiments/pneumonia/model.js';
import { defaultMicroBatch } from '../experiments/pneumonia/train.js';
import { seededRandom } from '../src/data/sampler-random.js';
import { selectBackend } from '../src/ml/backend.js';

t.test('the seed network has 811,214 parameters at 224² (as torch counts them)', async (t) => {
  t.equal(paramCount(224), 811_214);
  t.equal(paramCount(64), 336 + 24 + 2180 + 5792 + 64 + (32 * 32 * 32 * 2 + 2));
  t.throws(() => paramSpecs(63), /even integer/);
});

t.test('init follows torch bounds: |w| ≤ 1/√fan_in, batch-norm weight 1 and bias 0', async (t) => {
  const specs = paramSpecs(16);
  const p = initParams(specs, seededRandom(4));
  for (const s of specs) {
    const v = p.subarray(s.offset, s.offset + s.size);
    if (s.bound !== undefined)
      t.ok(
        v.every((x) => Math.abs(x) <= s.bound!),
        `${s.name} within ±${s.bound.toFixed(4)}`,
      );
    else
      t.ok(
        v.every((x) => x === s.fill),
        `${s.name} = ${s.fill}`,
      );
  }
});

t.test('micro-batches accumulate to the full batch gradient; eval uses running statistics', async (t) => {
  await selectBackend('wasm');
  const size = 8;
  const specs = paramSpecs(size);
  const params = initParams(specs, seededRandom(5));
  const rnd = seededRandom(6);
  const n = 4;
  const images = new Float32Array(n * size * size * 3).map(() => rnd() * 2 - 1);
  const labels = Int32Array.from([0, 1, 1, 0]);
  // Micro-batches of 2 over 4 images must equal the mean of two separate 2-image batches.
  const micro = new GradientComputer(specs, params, size, 2);
  const loss = micro.compute(images, labels, n, new BatchNormState());
  const half = new GradientComputer(specs, params, size, 2);
  const l1 = half.compute(
    images.subarray(0, 2 * size * size * 3),
    labels.subarray(0, 2),
    2,
    new BatchNormState(),
  );
  const g1 = half.grads.slice();
  const l2 = half.compute(images.subarray(2 * size * size * 3), labels.subarray(2), 2, new BatchNormState());
  t.ok(Math.abs(loss - (l1 + l2) / 2) < 1e-6, `loss ${loss} = mean of ${l1}, ${l2}`);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < g1.length; i++) {
    worst = Math.max(worst, Math.abs(micro.grads[i] - (g1[i] + half.grads[i]) / 2));
    scale = Math.max(scale, Math.abs(micro.grads[i]));
  }
  t.ok(
    scale > 0 && worst <= 1e-6 * scale,
    `accumulated gradient matches (max diff ${worst}, scale ${scale})`,
  );
  const bn = new BatchNormState();
  const single = new GradientComputer(specs, params, size, 1);
  single.compute(images, labels, n, bn);
  const pred = new Int32Array(n);
  single.predict(images, n, bn, pred);
  t.ok(
    pred.every((v) => v === 0 || v === 1),
    `predictions are class ids (${pred})`,
  );
  const logits = tf.tidy(() => {
    const ps: Record<string, tf.Tensor> = {};
    for (const s of specs) ps[s.name] = tf.tensor(params.subarray(s.offset, s.offset + s.size), s.shape);
    return forward(ps, tf.tensor4d(images, [n, size, size, 3]), false, bn);
  });
  t.same(logits.shape, [n, 2]);
  logits.dispose();
});

t.test('default micro-batch keeps ~16 images of 224² per pass, never above the batch', async (t) => {
  t.equal(defaultMicroBatch(224, 64), 16);
  t.equal(defaultMicroBatch(64, 64), 64);
  t.equal(defaultMicroBatch(112, 64), 64);
  t.equal(defaultMicroBatch(448, 64), 4);
});
