import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import t from 'tap';
import { GradientComputer } from '../experiments/pneumonia/gradients.js';
import { BatchNormState, forward } from '../experiments/pneumonia/model.js';
import { parityInputs } from '../experiments/pneumonia/parity-inputs.js';
import { selectBackend } from '../src/ml/backend.js';

// tsrun's network against torch's on one training step: loss, every parameter's gradient, the
// batch-norm running statistics it leaves, and the eval-mode logits after it. The torch side is a
// committed fixture made by bench/peers/cnn_torch_gradcheck.py (float64) from
// bench/pneumonia-parity-inputs.ts; the inputs are rebuilt here from the same seeded streams.

interface TorchParity {
  size: number;
  loss: number;
  grads: Record<string, number[]>;
  running: { mean1: number[]; var1: number[]; mean2: number[]; var2: number[] };
  eval_logits: number[];
}

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/pneumonia/torch-parity.json', import.meta.url), 'utf8'),
) as TorchParity;

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  let scale = 1e-6;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst / scale;
}

t.test('one training step equals torch: loss, gradients, running statistics, eval logits', async (t) => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await selectBackend(backend);
    const p = parityInputs();
    t.equal(p.size, fixture.size);
    const bn = new BatchNormState();
    const gc = new GradientComputer(p.specs, p.params, p.size, p.n);
    const loss = gc.compute(p.images, p.labels, p.n, bn);
    t.ok(
      Math.abs(loss - fixture.loss) < 1e-4 * Math.max(1, fixture.loss),
      `${backend}: loss ${loss} vs torch ${fixture.loss}`,
    );
    for (const s of p.specs) {
      const mine = gc.grads.subarray(s.offset, s.offset + s.size);
      const theirs = fixture.grads[s.name];
      t.equal(theirs.length, s.size, `${s.name} size`);
      // The conv biases before batch norm have exactly zero gradient here, rounding noise in torch.
      const d = s.name === 'conv1.bias' || s.name === 'conv3.bias' ? 0 : maxRelDiff(mine, theirs);
      t.ok(
        d < 1e-5,
        `${backend}: ${s.name} gradient within 1e-5 of torch's (relative max diff ${d.toExponential(2)})`,
      );
    }
    for (const k of ['mean1', 'var1', 'mean2', 'var2'] as const) {
      const d = maxRelDiff(bn[k], fixture.running[k]);
      t.ok(d < 1e-5, `${backend}: running ${k} (relative max diff ${d.toExponential(2)})`);
    }
    const logits = tf.tidy(() => {
      const named: Record<string, tf.Tensor> = {};
      for (const s of p.specs)
        named[s.name] = tf.tensor(p.params.subarray(s.offset, s.offset + s.size), s.shape);
      return forward(named, tf.tensor4d(p.images, [p.n, p.size, p.size, 3]), false, bn);
    });
    const d = maxRelDiff(logits.dataSync(), fixture.eval_logits);
    logits.dispose();
    t.ok(d < 1e-5, `${backend}: eval logits (relative max diff ${d.toExponential(2)})`);
  }
});
