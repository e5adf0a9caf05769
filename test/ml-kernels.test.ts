import * as tf from '@tensorflow/tfjs';
import t, { type Test } from 'tap';
import { Adam } from '../src/ml/adam.js';
import { selectBackend } from '../src/ml/backend.js';
import { batchNormRelu } from '../src/ml/batch-norm-relu.js';
import { biasRelu } from '../src/ml/bias-relu.js';
import { dense } from '../src/ml/dense.js';

// Every wasm result is compared with tfjs's pure-JS cpu backend on the same inputs (tolerance 1e-4
// relative to the magnitude of the values).

type Shape = number[];
let seed = 12345;
function data(shape: Shape): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    out[i] = seed / 2 ** 31 - 1;
  }
  return out;
}

async function onBoth(
  fn: () => tf.Tensor | tf.Tensor[],
): Promise<{ wasm: Float32Array[]; cpu: Float32Array[] }> {
  const run = async (name: 'wasm' | 'cpu') => {
    await selectBackend(name);
    const r = tf.tidy(fn);
    const list = Array.isArray(r) ? r : [r];
    const out = list.map((x) => x.dataSync() as Float32Array);
    tf.dispose(list);
    return out;
  };
  return { wasm: await run('wasm'), cpu: await run('cpu') };
}

function close(t: Test, a: Float32Array[], b: Float32Array[], what: string): void {
  t.equal(a.length, b.length, `${what}: same number of outputs`);
  for (let k = 0; k < b.length; k++) {
    let scale = 1;
    for (const v of b[k]) scale = Math.max(scale, Math.abs(v));
    let worst = 0;
    for (let i = 0; i < b[k].length; i++) worst = Math.max(worst, Math.abs(a[k][i] - b[k][i]));
    t.ok(
      a[k].length === b[k].length && worst <= 1e-4 * scale,
      `${what} output ${k}: max diff ${worst} (scale ${scale})`,
    );
  }
}

const cases: { x: Shape; f: Shape; pad: 'same' | 'valid' }[] = [
  { x: [2, 9, 9, 3], f: [3, 3, 3, 5], pad: 'same' },
  { x: [3, 8, 6, 4], f: [5, 5, 4, 2], pad: 'same' },
  { x: [2, 7, 7, 2], f: [3, 3, 2, 3], pad: 'valid' },
];

t.test('Conv2DBackpropFilter and Conv2DBackpropInput match the cpu backend', async (t) => {
  for (const c of cases) {
    const xs = data(c.x);
    const ws = data(c.f);
    const outShape = [
      c.x[0],
      c.pad === 'same' ? c.x[1] : c.x[1] - c.f[0] + 1,
      c.pad === 'same' ? c.x[2] : c.x[2] - c.f[1] + 1,
      c.f[3],
    ];
    const dys = data(outShape);
    const r = await onBoth(() => {
      const x = tf.tensor4d(xs, c.x as [number, number, number, number]);
      const w = tf.tensor4d(ws, c.f as [number, number, number, number]);
      const dy = tf.tensor4d(dys, outShape as [number, number, number, number]);
      const attrs = { strides: 1, pad: c.pad, dataFormat: 'NHWC' };
      return [
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: c.f }) as tf.Tensor,
        tf
          .engine()
          .runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: c.x }) as tf.Tensor,
      ];
    });
    close(t, r.wasm, r.cpu, `x ${c.x} filter ${c.f} pad ${c.pad}`);
  }
});

t.test('gradients of FusedConv2D (bias + relu) and plain conv2d match the cpu backend', async (t) => {
  const xs = data([2, 10, 10, 3]);
  const ws = data([3, 3, 3, 6]);
  const bs = data([6]);
  const r = await onBoth(() => {
    const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      tf.sum(
        tf.square(
          tf.fused.conv2d({
            x: x as tf.Tensor4D,
            filter: w as tf.Tensor4D,
            strides: 1,
            pad: 'same',
            bias: b,
            activation: 'relu',
          }),
        ),
      );
    return tf.grads(f)([tf.tensor4d(xs, [2, 10, 10, 3]), tf.tensor4d(ws, [3, 3, 3, 6]), tf.tensor1d(bs)]);
  });
  close(t, r.wasm, r.cpu, 'fused conv grads (x, filter, bias)');
});

t.test('strided convs are refused with a clear error instead of a wrong answer', async (t) => {
  await selectBackend('wasm');
  const x = tf.zeros([1, 8, 8, 2]) as tf.Tensor4D;
  const w = tf.zeros([3, 3, 2, 2]) as tf.Tensor4D;
  t.throws(() => tf.grad((w2: tf.Tensor) => tf.sum(tf.conv2d(x, w2 as tf.Tensor4D, 2, 'same')))(w), {
    name: 'UnsupportedConvError',
    message: /stride 1/,
  });
  tf.dispose([x, w]);
});

t.test('fused batch norm + ReLU (+ max-pool) matches tfjs ops, forward and gradients', async (t) => {
  for (const pool of [true, false]) {
    const shape: [number, number, number, number] = [3, 6, 4, 5];
    const xs = data(shape);
    const gs = data([5]).map((v) => v + 1.5);
    const bes = data([5]);
    const cbs = data([5]);
    const upShape = pool ? [3, 3, 2, 5] : shape;
    const up = data(upShape);
    const ours = await (async () => {
      await selectBackend('wasm');
      return tf.tidy(() => {
        const f = (x: tf.Tensor, b: tf.Tensor, g: tf.Tensor, be: tf.Tensor) =>
          tf.sum(
            tf.mul(
              batchNormRelu(x as tf.Tensor4D, b as tf.Tensor1D, g as tf.Tensor1D, be as tf.Tensor1D, {
                eps: 1e-5,
                pool,
              }),
              tf.tensor(up, upShape),
            ),
          );
        const args = [tf.tensor4d(xs, shape), tf.tensor1d(cbs), tf.tensor1d(gs), tf.tensor1d(bes)];
        const { value, grads } = tf.valueAndGrads(f)(args);
        return [value, ...grads].map((v) => v.dataSync() as Float32Array);
      });
    })();
    const ref = await (async () => {
      await selectBackend('cpu');
      return tf.tidy(() => {
        const f = (x: tf.Tensor, b: tf.Tensor, g: tf.Tensor, be: tf.Tensor) => {
          const xb = tf.add(x, b) as tf.Tensor4D;
          const { mean, variance } = tf.moments(xb, [0, 1, 2]);
          let y = tf.relu(
            tf.batchNorm(xb, mean, variance, be as tf.Tensor1D, g as tf.Tensor1D, 1e-5),
          ) as tf.Tensor4D;
          if (pool) y = tf.maxPool(y, 2, 2, 'valid');
          return tf.sum(tf.mul(y, tf.tensor(up, upShape)));
        };
        const args = [tf.tensor4d(xs, shape), tf.tensor1d(cbs), tf.tensor1d(gs), tf.tensor1d(bes)];
        const { value, grads } = tf.valueAndGrads(f)(args);
        return [value, ...grads].map((v) => v.dataSync() as Float32Array);
      });
    })();
    // The conv bias cancels under batch norm: its true gradient is 0 up to rounding in both.
    close(
      t,
      [ours[0], ours[1], ours[3], ours[4]],
      [ref[0], ref[1], ref[3], ref[4]],
      `bn relu pool=${pool}: loss, dx, dgamma, dbeta`,
    );
    t.ok(
      ours[2].every((v) => Math.abs(v) < 1e-4) && ref[2].every((v) => Math.abs(v) < 1e-4),
      `conv-bias gradient 0 here, ≈ 0 on the cpu reference (${Array.from(ref[2]).map((v) => v.toExponential(1))})`,
    );
  }
});

t.test('dense (x @ w + b) value and gradients match tfjs matMul on the cpu backend', async (t) => {
  const xs = data([4, 37]);
  const ws = data([37, 2]);
  const bs = data([2]);
  const up = data([4, 2]);
  const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, tf.tensor2d(up, [4, 2])));
  const args = () => [tf.tensor2d(xs, [4, 37]), tf.tensor2d(ws, [37, 2]), tf.tensor1d(bs)];
  await selectBackend('wasm');
  const ours = tf.tidy(() => {
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      loss(dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D)),
    )(args());
    return [value, ...grads].map((v) => v.dataSync() as Float32Array);
  });
  await selectBackend('cpu');
  const ref = tf.tidy(() => {
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      loss(tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b)),
    )(args());
    return [value, ...grads].map((v) => v.dataSync() as Float32Array);
  });
  close(t, ours, ref, 'dense: loss, dx, dw, db');
});

t.test('biasRelu value and gradients match relu(x + b) on the cpu backend', async (t) => {
  const shape: [number, number, number, number] = [2, 5, 3, 4];
  const xs = data(shape);
  const bs = data([4]);
  const up = data(shape);
  const run = (f: (x: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor) =>
    tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((x: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(f(x as tf.Tensor4D, b as tf.Tensor1D), tf.tensor(up, shape))),
      )([tf.tensor4d(xs, shape), tf.tensor1d(bs)]);
      return [value, ...grads].map((v) => v.dataSync() as Float32Array);
    });
  await selectBackend('wasm');
  const ours = run((x, b) => biasRelu(x, b));
  await selectBackend('cpu');
  const ref = run((x, b) => tf.relu(tf.add(x, b)));
  close(t, ours, ref, 'biasRelu: loss, dx, dbias');
});

t.test('max-pool gradient goes to the first maximum of a window when values tie', async (t) => {
  // Constant image regions (flat X-ray borders) give equal conv outputs: torch and the cpu backend
  // route the gradient to one cell per window, not to every tied cell.
  const shape: [number, number, number, number] = [2, 4, 6, 3];
  const xs = data(shape).map((v, i) => (i % 7 < 4 ? 0.5 : v));
  const gs = new Float32Array([1, 2, 0.5]);
  const bes = new Float32Array([0.3, -0.1, 0.2]);
  const up = data([2, 2, 3, 3]);
  const run = (pool: boolean) =>
    tf.tidy(() => {
      const f = (x: tf.Tensor) => {
        const y = pool
          ? batchNormRelu(x as tf.Tensor4D, tf.zeros([3]), tf.tensor1d(gs), tf.tensor1d(bes), {
              eps: 1e-5,
              pool,
            })
          : (tf.maxPool(
              tf.relu(
                tf.batchNorm(
                  x as tf.Tensor4D,
                  tf.moments(x, [0, 1, 2]).mean,
                  tf.moments(x, [0, 1, 2]).variance,
                  tf.tensor1d(bes),
                  tf.tensor1d(gs),
                  1e-5,
                ),
              ) as tf.Tensor4D,
              2,
              2,
              'valid',
            ) as tf.Tensor4D);
        return tf.sum(tf.mul(y, tf.tensor(up, [2, 2, 3, 3])));
      };
      return [tf.grad(f)(tf.tensor4d(xs, shape)).dataSync() as Float32Array];
    });
  await selectBackend('wasm');
  const ours = run(true);
  await selectBackend('cpu');
  const ref = run(false);
  close(t, ours, ref, 'bn relu pool with ties: dx');
});

t.test('Adam matches torch.optim.Adam formulas for two steps', async (t) => {
  const p = new Float32Array([1, -2]);
  const adam = new Adam(2, { lr: 0.1 });
  adam.step(p, new Float32Array([0.5, -1]));
  // step 1: m̂ = g, v̂ = g², update = lr·g/(|g|+eps) = ±0.1
  t.ok(Math.abs(p[0] - 0.9) < 1e-6 && Math.abs(p[1] + 1.9) < 1e-6, `after step 1: ${p}`);
  adam.step(p, new Float32Array([0.5, 1]));
  const m = 0.9 * 0.1 * -1 + 0.1 * 1;
  const v = 0.999 * 0.001 * 1 + 0.001 * 1;
  const expect1 = -1.9 - (0.1 * (m / (1 - 0.81))) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
  t.ok(Math.abs(p[0] - 0.8) < 1e-6, `same-sign gradient keeps a 0.1 step: ${p[0]}`);
  t.ok(Math.abs(p[1] - expect1) < 1e-6, `sign flip: ${p[1]} ≈ ${expect1}`);
  t.throws(() => adam.step(p, new Float32Array(3)), RangeError);
});
