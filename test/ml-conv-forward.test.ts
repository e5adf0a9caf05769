import * as tf from '@tensorflow/tfjs';
import t, { type Test } from 'tap';
import { selectBackend } from '../src/ml/backend.js';
import { convRowKernels } from '../src/ml/conv-forward-simd.js';
import { seededFloats } from './helpers/seeded-floats.js';

// tsrun's SIMD forward conv (src/ml/conv-simd.ts, the wasm backend's Conv2D and the core of its
// Conv2DBackpropInput) against plain JS loops of the definitions, on odd shapes: odd widths (the single-
// pixel tail), 'same' with odd and even filters, 'valid', images narrower than the filter, several channel
// counts (column tiles of 1-4 vectors).

const data = seededFloats(99);

type Geometry = {
  n: number;
  h: number;
  w: number;
  ci: number;
  kh: number;
  kw: number;
  co: number;
  top: number;
  left: number;
  ho: number;
  wo: number;
};

function geometry(x: readonly number[], f: readonly number[], pad: 'same' | 'valid'): Geometry {
  const info = tf.backend_util.computeConv2DInfo(
    x as [number, number, number, number],
    f as [number, number, number, number],
    1,
    1,
    pad,
  );
  const [n, h, w, ci] = x;
  const [kh, kw, , co] = f;
  return {
    n,
    h,
    w,
    ci,
    kh,
    kw,
    co,
    top: info.padInfo.top,
    left: info.padInfo.left,
    ho: info.outHeight,
    wo: info.outWidth,
  };
}

/** y[n,i,j,o] = Σ x[n, i+a−top, j+b−left, c]·w[a,b,c,o]; dx[n,r,s,c] = Σ dy[n,i,j,o]·w[a,b,c,o] over r = i+a−top, s = j+b−left. */
function reference(x: Float32Array, w: Float32Array, dy: Float32Array, g: Geometry) {
  const y = new Float64Array(g.n * g.ho * g.wo * g.co);
  const dx = new Float64Array(g.n * g.h * g.w * g.ci);
  for (let b = 0; b < g.n; b++)
    for (let i = 0; i < g.ho; i++)
      for (let j = 0; j < g.wo; j++)
        for (let fa = 0; fa < g.kh; fa++)
          for (let fb = 0; fb < g.kw; fb++) {
            const r = i + fa - g.top;
            const s = j + fb - g.left;
            if (r < 0 || r >= g.h || s < 0 || s >= g.w) continue;
            for (let c = 0; c < g.ci; c++)
              for (let o = 0; o < g.co; o++) {
                const wv = w[((fa * g.kw + fb) * g.ci + c) * g.co + o];
                const yi = ((b * g.ho + i) * g.wo + j) * g.co + o;
                const xi = ((b * g.h + r) * g.w + s) * g.ci + c;
                y[yi] += x[xi] * wv;
                dx[xi] += dy[yi] * wv;
              }
          }
  return { y, dx };
}

function check(t: Test, got: Float32Array, want: Float64Array, what: string): void {
  let worst = 0;
  let scale = 1;
  for (let i = 0; i < want.length; i++) {
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  t.ok(got.length === want.length && worst <= 1e-6 * scale, `${what}: max diff ${worst} (scale ${scale})`);
}

const cases = [
  { x: [2, 9, 7, 3], f: [3, 3, 3, 12], pad: 'same' },
  { x: [1, 11, 13, 20], f: [3, 3, 20, 32], pad: 'same' },
  { x: [3, 6, 5, 12], f: [3, 3, 12, 20], pad: 'same' },
  { x: [2, 5, 6, 32], f: [3, 3, 32, 20], pad: 'same' },
  { x: [2, 8, 9, 5], f: [2, 2, 5, 4], pad: 'same' }, // even filter: padding only bottom/right
  { x: [2, 7, 10, 1], f: [5, 3, 1, 8], pad: 'same' },
  { x: [1, 3, 2, 8], f: [5, 5, 8, 28], pad: 'same' }, // image narrower than the filter
  { x: [2, 9, 8, 6], f: [3, 3, 6, 16], pad: 'valid' },
  { x: [1, 5, 12, 9], f: [1, 4, 9, 36], pad: 'valid' },
  { x: [2, 6, 7, 2], f: [1, 1, 2, 4], pad: 'same' },
] as const;

t.test('SIMD Conv2D and Conv2DBackpropInput equal the definitions', async (t) => {
  await selectBackend('wasm');
  const memory = (tf.backend() as unknown as { wasm: { asm: { memory: object } } }).wasm.asm.memory;
  t.ok(
    convRowKernels(memory, { ci: 3, co: 4, kh: 3, kw: 3, wp: 9 }) !== null,
    'the SIMD kernels compile and bind to the wasm heap (else these tests would check the XNNPACK fallback)',
  );
  for (const c of cases) {
    const g = geometry(c.x, c.f, c.pad);
    const xs = data(g.n * g.h * g.w * g.ci);
    const ws = data(g.kh * g.kw * g.ci * g.co);
    const dys = data(g.n * g.ho * g.wo * g.co);
    const want = reference(xs, ws, dys, g);
    const [y, dx] = tf.tidy(() => {
      const x = tf.tensor4d(xs, [g.n, g.h, g.w, g.ci]);
      const w = tf.tensor4d(ws, [g.kh, g.kw, g.ci, g.co]);
      const dy = tf.tensor4d(dys, [g.n, g.ho, g.wo, g.co]);
      const attrs = { strides: 1, pad: c.pad, dataFormat: 'NHWC', dilations: 1 };
      return [
        tf.conv2d(x, w, 1, c.pad).dataSync() as Float32Array,
        (
          tf
            .engine()
            .runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: c.x }) as tf.Tensor
        ).dataSync() as Float32Array,
      ];
    });
    check(t, y, want.y, `conv x ${c.x} filter ${c.f} pad ${c.pad}`);
    check(t, dx, want.dx, `dx x ${c.x} filter ${c.f} pad ${c.pad}`);
  }
});
