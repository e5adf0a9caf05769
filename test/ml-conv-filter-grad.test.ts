import * as tf from '@tensorflow/tfjs';
import t from 'tap';
import { selectBackend } from '../src/ml/backend.js';
import { gemmFor } from '../src/ml/simd-gemm.js';
import { seededFloats } from './helpers/seeded-floats.js';

// tsrun's SIMD filter-gradient kernel (src/ml/conv-filter-grad-simd.ts, reached through the wasm
// backend's Conv2DBackpropFilter) against a plain JS loop of the definition, on odd shapes: every
// micro-kernel tile and remainder, 'same' padding with odd and even filters, 'valid', images narrower
// than the filter, several channel counts.

const data = seededFloats(777);

/** dW[a,b,ci,co] = Σ_{n,i,j} x[n, i+a−top, j+b−left, ci]·dy[n,i,j,co], in doubles. */
function reference(
  x: Float32Array,
  dy: Float32Array,
  [n, h, w, ci]: number[],
  [kh, kw, , co]: number[],
  [ho, wo]: number[],
  top: number,
  left: number,
): Float64Array {
  const out = new Float64Array(kh * kw * ci * co);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let fa = 0; fa < kh; fa++)
          for (let fb = 0; fb < kw; fb++) {
            const r = i + fa - top;
            const c = j + fb - left;
            if (r < 0 || r >= h || c < 0 || c >= w) continue;
            for (let k = 0; k < ci; k++) {
              const xv = x[((b * h + r) * w + c) * ci + k];
              for (let o = 0; o < co; o++)
                out[((fa * kw + fb) * ci + k) * co + o] += xv * dy[((b * ho + i) * wo + j) * co + o];
            }
          }
  return out;
}

const cases = [
  { x: [2, 9, 7, 3], f: [3, 3, 3, 12], pad: 'same' },
  { x: [1, 11, 13, 20], f: [3, 3, 20, 32], pad: 'same' },
  { x: [3, 6, 5, 12], f: [3, 3, 12, 20], pad: 'same' },
  { x: [2, 8, 9, 5], f: [2, 2, 5, 4], pad: 'same' }, // even filter: padding only bottom/right
  { x: [2, 7, 10, 1], f: [5, 3, 1, 8], pad: 'same' },
  { x: [1, 3, 2, 7], f: [5, 5, 7, 28], pad: 'same' }, // image narrower than the filter
  { x: [2, 9, 8, 6], f: [3, 3, 6, 16], pad: 'valid' },
  { x: [1, 5, 12, 9], f: [1, 4, 9, 36], pad: 'valid' },
  { x: [2, 6, 6, 2], f: [1, 1, 2, 4], pad: 'same' },
] as const;

t.test('SIMD Conv2DBackpropFilter equals the definition', async (t) => {
  await selectBackend('wasm');
  // Otherwise the kernel falls back to the XNNPACK form and this test would not exercise the SIMD one.
  const memory = (tf.backend() as unknown as { wasm: { asm: { memory: object } } }).wasm.asm.memory;
  t.ok(gemmFor(memory) !== null, 'the SIMD kernels compile and bind to the wasm heap');
  for (const c of cases) {
    const [n, h, w, ci] = c.x;
    const [kh, kw, , co] = c.f;
    const info = tf.backend_util.computeConv2DInfo(
      c.x as unknown as [number, number, number, number],
      c.f as unknown as [number, number, number, number],
      1,
      1,
      c.pad,
    );
    const ho = info.outHeight;
    const wo = info.outWidth;
    const xs = data(n * h * w * ci);
    const dys = data(n * ho * wo * co);
    const got = tf.tidy(() => {
      const x = tf.tensor4d(xs, [n, h, w, ci]);
      const dy = tf.tensor4d(dys, [n, ho, wo, co]);
      const attrs = { strides: 1, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f };
      return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor;
    });
    t.same(got.shape, c.f, `shape ${c.f}`);
    const g = got.dataSync();
    got.dispose();
    const want = reference(
      xs,
      dys,
      [n, h, w, ci],
      [kh, kw, ci, co],
      [ho, wo],
      info.padInfo.top,
      info.padInfo.left,
    );
    let worst = 0;
    let scale = 1;
    for (let i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(g[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    t.ok(worst <= 1e-6 * scale, `x ${c.x} filter ${c.f} pad ${c.pad}: max diff ${worst} (scale ${scale})`);
  }
});
