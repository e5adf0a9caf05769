import { seededRandom } from '../../src/data/sampler-random.js';
import { initParams, type ParamSpec, paramSpecs } from './model.js';

/**
 * The batch and parameters of the torch parity check: 6 images of 8×8, torch-like initial weights with
 * batch-norm scales and shifts moved off 1 and 0 (so their gradients are exercised too).
 */
export interface ParityInputs {
  size: number;
  n: number;
  specs: ParamSpec[];
  params: Float32Array;
  images: Float32Array;
  labels: Int32Array;
}

export function parityInputs(): ParityInputs {
  const size = 8;
  const n = 6;
  const specs = paramSpecs(size);
  const params = initParams(specs, seededRandom(17, 1));
  const rnd = seededRandom(17, 2);
  for (const s of specs) {
    if (!s.name.startsWith('bn')) continue;
    const base = s.name.endsWith('weight') ? 1 : 0;
    for (let i = 0; i < s.size; i++) params[s.offset + i] = base + (rnd() - 0.5) * 0.6;
  }
  // Per-channel offsets and scales like normalised images, plus a mean shift per image.
  const images = new Float32Array(n * size * size * 3);
  for (let i = 0; i < images.length; i++) images[i] = (rnd() * 2 - 1) * 1.5 + ((i % 3) - 1) * 0.4;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  return { size, n, specs, params, images, labels };
}
