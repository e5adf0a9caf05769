import { type GemmTN, gemmTN } from './simd-gemm.js';

export interface FilterGradGeometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  ho: number;
  wo: number;
  co: number;
  kh: number;
  kw: number;
  padTop: number;
  padLeft: number;
}

/**
 * dW[a,b,ci,co] += Σ_{n,i,j} x[n, i+a−padTop, j+b−padLeft, ci]·dy[n,i,j,co] (stride 1, NHWC, zero padding),
 * over byte addresses of the memory `g` is bound to. For each output row and filter tap the valid pixels
 * of one x row and one dy row are contiguous, so each (n, i, a, b) is one C += AᵀB strip of length ≤ Wo
 * with C = dW[a,b] (Ci×Co, in L1 for the whole pass) — no im2col buffer, no repacking.
 * `co` must be a multiple of 4; dW must be zeroed (or hold what to add to).
 */
export function conv2dFilterGradInto(
  g: GemmTN,
  dw: number,
  x: number,
  dy: number,
  s: FilterGradGeometry,
): void {
  const { n, h, w, ci, ho, wo, co, kh, kw, padTop, padLeft } = s;
  const xRow = w * ci * 4;
  const dyRow = wo * co * 4;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      const dyAt = dy + (b * ho + i) * dyRow;
      for (let fa = 0; fa < kh; fa++) {
        const r = i + fa - padTop;
        if (r < 0 || r >= h) continue;
        const xAt = x + (b * h + r) * xRow;
        for (let fb = 0; fb < kw; fb++) {
          const j0 = Math.max(0, padLeft - fb);
          const j1 = Math.min(wo, w + padLeft - fb);
          if (j1 <= j0) continue;
          const tap = dw + (fa * kw + fb) * ci * co * 4;
          const a = xAt + (j0 + fb - padLeft) * ci * 4;
          gemmTN(g, tap, a, dyAt + j0 * co * 4, j1 - j0, ci, co, ci * 4, co * 4, co * 4);
        }
      }
    }
  }
}
