/**
 * Chest-X-ray-like grayscale pictures for the pneumonia experiment. Each picture is drawn at a small
 * base resolution (body, two lung fields, spine, ribs, heart, noise) and upscaled by the caller.
 * PNEUMONIA pictures carry a few diffuse opacities (soft bright patches) inside the lung fields.
 * Every picture is then rescaled to a mean and contrast drawn from one distribution shared by both
 * classes, so mean brightness alone does not separate them: a model must look at where brightness is.
 */
import { seededRandom } from '../../src/data/sampler-random.js';

export const BASE = 128;

export interface XrayPicture {
  /** BASE×BASE gray levels 0..255 */
  pixels: Uint8Array;
  label: 0 | 1;
}

function ellipse(dx: number, dy: number, rx: number, ry: number): number {
  return (dx * dx) / (rx * rx) + (dy * dy) / (ry * ry);
}

/** Draws picture `index` of `label` for `seed`; the same arguments always give the same pixels. */
export function drawXray(seed: number, label: 0 | 1, index: number, work: Float32Array): XrayPicture {
  const rnd = seededRandom(seed, label, index);
  const n = BASE;
  const cx = n / 2 + (rnd() - 0.5) * 8;
  const cy = n / 2 + (rnd() - 0.5) * 6;
  const bodyRx = n * (0.4 + rnd() * 0.06);
  const bodyRy = n * (0.55 + rnd() * 0.05);
  const lungRx = n * (0.14 + rnd() * 0.03);
  const lungRy = n * (0.27 + rnd() * 0.04);
  const lungDx = n * (0.19 + rnd() * 0.03);
  const lungY = cy - n * 0.02;
  const ribPhase = rnd() * Math.PI * 2;
  const ribFreq = 0.33 + rnd() * 0.08;
  const heartX = cx + n * 0.06;
  const heartY = cy + n * 0.12;
  const blobs: number[] = [];
  if (label === 1) {
    const count = 3 + Math.floor(rnd() * 3);
    for (let b = 0; b < count; b++) {
      const side = rnd() < 0.5 ? -1 : 1;
      const bx = cx + side * lungDx + (rnd() - 0.5) * lungRx * 1.2;
      const by = lungY + (rnd() - 0.3) * lungRy * 1.3;
      const sigma = 6 + rnd() * 8;
      const amp = 0.25 + rnd() * 0.25;
      blobs.push(bx, by, sigma, amp);
    }
  }
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      let v = 0.08 + 0.05 * (y / n);
      if (ellipse(x - cx, y - cy - n * 0.1, bodyRx, bodyRy) < 1) v = 0.55;
      for (const side of [-1, 1]) {
        const e = ellipse(x - (cx + side * lungDx), y - lungY, lungRx, lungRy);
        if (e < 1) {
          v = 0.2 + 0.12 * e;
          // ribs: bright bands curving down from the spine
          const rib = Math.sin((y + 0.004 * (x - cx) * (x - cx)) * ribFreq + ribPhase);
          if (rib > 0.75) v += 0.12;
        }
      }
      if (Math.abs(x - cx) < n * 0.035 && y > cy - n * 0.35) v = 0.75;
      if (ellipse(x - heartX, y - heartY, n * 0.13, n * 0.11) < 1) v = Math.max(v, 0.6);
      for (let b = 0; b < blobs.length; b += 4) {
        const dx = x - blobs[b];
        const dy = y - blobs[b + 1];
        const s = blobs[b + 2];
        v += blobs[b + 3] * Math.exp(-(dx * dx + dy * dy) / (2 * s * s));
      }
      work[y * n + x] = v + (rnd() - 0.5) * 0.08;
    }
  }
  // Rescale to a mean/contrast drawn from the same distribution for both classes.
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n * n; i++) sum += work[i];
  const mean = sum / (n * n);
  for (let i = 0; i < n * n; i++) sq += (work[i] - mean) ** 2;
  const std = Math.sqrt(sq / (n * n)) || 1;
  const targetMean = 100 + rnd() * 40;
  const targetStd = 45 + rnd() * 15;
  const pixels = new Uint8Array(n * n);
  for (let i = 0; i < n * n; i++) {
    const g = targetMean + ((work[i] - mean) / std) * targetStd;
    pixels[i] = g < 0 ? 0 : g > 255 ? 255 : g;
  }
  return { pixels, label };
}
