import * as tf from '@tensorflow/tfjs';
import t from 'tap';
import { affinePair } from '../src/ml/affine-pair-simd.js';
import { selectBackend } from '../src/ml/backend.js';
import { affine } from '../src/ml/channel-ops.js';
import { seededFloats } from './helpers/seeded-floats.js';

// The SIMD a·k + (b·p + q) (batch norm's input gradient) against the tfjs ops it replaces, bit for bit.

const data = seededFloats(2718);

t.test('affinePair equals two 1×1 depthwise convs and an add, exactly', async (t) => {
  await selectBackend('wasm');
  for (const shape of [
    [2, 3, 5, 4],
    [1, 7, 9, 12],
    [3, 4, 4, 32],
  ] as [number, number, number, number][]) {
    const ch = shape[3];
    const size = shape.reduce((x, y) => x * y, 1);
    const [as, bs] = [data(size), data(size)];
    const [k, p, q] = [data(ch), data(ch), data(ch)];
    const [got, want] = tf.tidy(() => {
      const a = tf.tensor4d(as, shape);
      const b = tf.tensor4d(bs, shape);
      const ours = affinePair(a, k, b, p, q);
      const ref = tf.add(affine(a, k, new Float32Array(ch), false), affine(b, p, q, false));
      return [ours?.dataSync(), ref.dataSync()];
    });
    if (got === undefined) {
      t.fail(`[${shape}]: SIMD kernel unavailable`);
      continue;
    }
    let differ = 0;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) differ++;
    t.equal(differ, 0, `[${shape}]: ${differ} of ${want.length} values differ`);
  }
  const odd = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
  const three = new Float32Array(3);
  t.equal(affinePair(odd, three, odd, three, three), null, '3 channels: null, the caller uses tfjs ops');
  odd.dispose();
});
