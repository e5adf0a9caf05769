/**
 * Gradient of maxpool2(y) followed by ReLU's, for y = relu(…) ≥ 0, NHWC: each window's first maximum
 * (row-major, as torch and tfjs's cpu backend) gets dOut if it is > 0, every other cell 0.
 * Why a JS loop: the wasm backend's MaxPoolGrad kernel is a generic strided loop that measured 180 ms
 * CPU for 16×224×224×12; this specialised one reads each value once (run through tensor-views.ts's
 * zero-copy views).
 */
export function maxPool2ReluGrad(
  out: Float32Array,
  y: Float32Array,
  dOut: Float32Array,
  n: number,
  h: number,
  w: number,
  ch: number,
): void {
  // Zero everything first (a memset), then write only the winners: 1 scattered store per window, not 4.
  out.fill(0);
  const oh = h >> 1;
  const ow = w >> 1;
  const row = w * ch;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      const base = (b * h + 2 * i) * row;
      for (let j = 0; j < ow; j++) {
        const p0 = base + 2 * j * ch;
        for (let c = 0; c < ch; c++, o++) {
          const a0 = p0 + c;
          const a1 = a0 + ch;
          const a2 = a0 + row;
          const a3 = a2 + ch;
          const v0 = y[a0];
          const v1 = y[a1];
          const v2 = y[a2];
          const v3 = y[a3];
          let best = v0;
          let at = a0;
          if (v1 > best) {
            best = v1;
            at = a1;
          }
          if (v2 > best) {
            best = v2;
            at = a2;
          }
          if (v3 > best) {
            best = v3;
            at = a3;
          }
          if (best > 0) out[at] = dOut[o];
        }
      }
    }
  }
}
