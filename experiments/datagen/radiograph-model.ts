/**
 * A second chest-radiograph look, unlike xray-model.ts, to stand in for data the project has not seen:
 * drawn at the output's own size and aspect (portrait or landscape), a squarish torso with shoulders,
 * D-shaped lung fields with a flat inner edge, diaphragm domes, clavicles, a segmented spine, a film
 * vignette and grain, and clutter shared by both classes (a burned-in side marker, a line/tube, a small
 * calcified nodule). PNEUMONIA pictures carry one of three opacity patterns inside a lung: a lobar
 * consolidation cut by a fissure line, patchy reticular streaks, or a cluster of ring shadows. Contrast
 * and brightness are drawn from one distribution for both classes.
 */
import { seededRandom } from '../../src/data/sampler-random.js';

export interface RadiographPicture {
  /** width×height gray levels 0..255, row-major */
  pixels: Uint8Array;
  width: number;
  height: number;
  label: 0 | 1;
}

/** Superellipse distance: < 1 inside, exponent 4 gives a rounded rectangle. */
function superellipse(dx: number, dy: number, rx: number, ry: number, p: number): number {
  return Math.abs(dx / rx) ** p + Math.abs(dy / ry) ** p;
}

function smoothstep(e0: number, e1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

/** Value noise on a coarse lattice, bilinear: the soft mottling real films have. */
function valueNoise(rnd: () => number, w: number, h: number, cell: number): (x: number, y: number) => number {
  const gw = Math.ceil(w / cell) + 2;
  const gh = Math.ceil(h / cell) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = rnd();
  return (x, y) => {
    const fx = x / cell;
    const fy = y / cell;
    const ix = Math.floor(fx);
    const iy = Math.floor(fy);
    const tx = fx - ix;
    const ty = fy - iy;
    const a = grid[iy * gw + ix];
    const b = grid[iy * gw + ix + 1];
    const c = grid[(iy + 1) * gw + ix];
    const d = grid[(iy + 1) * gw + ix + 1];
    return (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty;
  };
}

type Opacity = (x: number, y: number) => number;

/**
 * One pneumonia pattern inside the lung centred at (lx, ly) with radii (rx, ry); returns the added
 * brightness at a point (the caller masks it to the lung).
 */
function opacityPattern(rnd: () => number, lx: number, ly: number, rx: number, ry: number): Opacity {
  const kind = Math.floor(rnd() * 3);
  const amp = 0.45 + rnd() * 0.25;
  if (kind === 0) {
    // Lobar consolidation: everything below a tilted fissure line, fading in over a few pixels.
    // the fissure lies between the upper third and the middle of the lung: a lower lobe or more
    const level = ly + (rnd() * 0.6 - 0.6) * ry;
    const tilt = (rnd() - 0.5) * 0.6;
    const noise = valueNoise(rnd, Math.ceil(lx + rx * 2), Math.ceil(ly + ry * 2), Math.max(4, rx / 3));
    return (x, y) => {
      const edge = y - (level + tilt * (x - lx));
      return amp * smoothstep(-3, 3, edge) * (0.7 + 0.5 * noise(x, y));
    };
  }
  if (kind === 1) {
    // Reticular: thin bright streaks at random angles, densest around one focus.
    const fx = lx + (rnd() - 0.5) * rx;
    const fy = ly + (rnd() - 0.2) * ry;
    const streaks: number[] = [];
    const count = 10 + Math.floor(rnd() * 10);
    for (let i = 0; i < count; i++) {
      const a = rnd() * Math.PI;
      streaks.push(fx + (rnd() - 0.5) * rx * 1.2, fy + (rnd() - 0.5) * ry, Math.cos(a), Math.sin(a));
    }
    const width = Math.max(1.2, rx * 0.04);
    const reach = rx * 0.9;
    return (x, y) => {
      let v = 0;
      for (let i = 0; i < streaks.length; i += 4) {
        const dx = x - streaks[i];
        const dy = y - streaks[i + 1];
        const along = dx * streaks[i + 2] + dy * streaks[i + 3];
        const across = -dx * streaks[i + 3] + dy * streaks[i + 2];
        if (Math.abs(along) > reach * 0.5) continue;
        v += Math.exp(-(across * across) / (2 * width * width));
      }
      const focus = Math.exp(-((x - fx) ** 2 + (y - fy) ** 2) / (2 * (rx * 0.8) ** 2));
      return amp * 1.4 * Math.min(1, v) * focus + amp * 0.35 * focus;
    };
  }
  // Ring shadows: a cluster of small bright rings (cavities), each with a darker centre.
  const rings: number[] = [];
  const count = 3 + Math.floor(rnd() * 4);
  const cx = lx + (rnd() - 0.5) * rx * 0.8;
  const cy = ly + (rnd() - 0.3) * ry * 0.8;
  for (let i = 0; i < count; i++) {
    rings.push(cx + (rnd() - 0.5) * rx * 0.9, cy + (rnd() - 0.5) * ry * 0.7, rx * (0.08 + rnd() * 0.1));
  }
  return (x, y) => {
    let v = 0;
    for (let i = 0; i < rings.length; i += 3) {
      const d = Math.hypot(x - rings[i], y - rings[i + 1]);
      const r = rings[i + 2];
      const t = (d - r) / (r * 0.35);
      v += Math.exp(-t * t) + 0.35 * (d < r ? 1 : 0);
    }
    return amp * 1.2 * Math.min(1.2, v);
  };
}

/** Draws picture `index` of `label` for `seed` at width×height; same arguments, same pixels. */
export function drawRadiograph(
  seed: number,
  label: 0 | 1,
  index: number,
  width: number,
  height: number,
): RadiographPicture {
  const rnd = seededRandom(seed, label, index, 0x5ad);
  const w = width;
  const h = height;
  // Geometry in pixels of the output, scaled by the shorter side so the chest keeps its proportions
  // and the film around it takes up the aspect ratio.
  const s = Math.min(w, h);
  const cx = w / 2 + (rnd() - 0.5) * s * 0.08;
  const cy = h / 2 + (rnd() - 0.5) * s * 0.06;
  const torsoRx = s * (0.42 + rnd() * 0.05);
  const torsoRy = s * (0.46 + rnd() * 0.05);
  const lungRx = s * (0.15 + rnd() * 0.03);
  const lungRy = s * (0.24 + rnd() * 0.04);
  const lungDx = s * (0.17 + rnd() * 0.03);
  const lungY = cy - s * 0.04;
  const domeY = lungY + lungRy * (0.75 + rnd() * 0.1);
  const ribGap = s * (0.055 + rnd() * 0.015);
  const ribPhase = rnd() * ribGap;
  const grain = 0.05 + rnd() * 0.04;
  const mottling = valueNoise(rnd, w, h, Math.max(6, s / 12));
  // Clutter both classes share.
  const marker = {
    x: rnd() < 0.5 ? w * 0.08 : w * 0.84,
    y: rnd() < 0.5 ? h * 0.06 : h * 0.86,
    size: s * (0.04 + rnd() * 0.03),
  };
  const tube = rnd() < 0.5 ? { x0: cx + (rnd() - 0.5) * s * 0.3, slope: (rnd() - 0.5) * 0.5 } : undefined;
  const nodule =
    rnd() < 0.4
      ? {
          x: cx + (rnd() < 0.5 ? -1 : 1) * lungDx + (rnd() - 0.5) * lungRx,
          y: lungY + (rnd() - 0.5) * lungRy,
          r: s * 0.012 + rnd() * 2,
        }
      : undefined;
  const sick = label === 1 ? (rnd() < 0.5 ? -1 : 1) : 0;
  const opacity = label === 1 ? opacityPattern(rnd, cx + sick * lungDx, lungY, lungRx, lungRy) : undefined;
  // Some PNEUMONIA films are bilateral: a second, weaker pattern in the other lung.
  const second =
    label === 1 && rnd() < 0.3 ? opacityPattern(rnd, cx - sick * lungDx, lungY, lungRx, lungRy) : undefined;

  const work = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const vignette = 1 - 0.25 * (((x - w / 2) / w) ** 2 + ((y - h / 2) / h) ** 2) * 4;
      let v = 0.06 * vignette;
      const torso = superellipse(x - cx, y - cy - s * 0.12, torsoRx, torsoRy, 4);
      const shoulders = superellipse(x - cx, y - (cy - torsoRy * 0.55), torsoRx * 1.15, s * 0.09, 2);
      if (torso < 1 || shoulders < 1) v = 0.5 + 0.08 * mottling(x, y);
      for (const side of [-1, 1]) {
        const lx = cx + side * lungDx;
        const dx = x - lx;
        // D shape: the inner (medial) half is a flat-sided superellipse, the outer half an ellipse.
        const inner = dx * side < 0;
        const d = superellipse(dx, y - lungY, lungRx, lungRy, inner ? 6 : 2);
        const belowDome = y > domeY - (lungRx - Math.abs(dx)) * 0.35;
        if (d < 1 && !belowDome) {
          v = 0.16 + 0.1 * d + 0.06 * mottling(x + 31, y + 17);
          const rib = (y + 0.01 * dx * dx + ribPhase) % ribGap;
          if (rib < ribGap * 0.28) v += 0.1;
          if (opacity && side === sick) v += opacity(x, y);
          if (second && side === -sick) v += 0.6 * second(x, y);
        }
      }
      // clavicles: bright bars sloping up and out from the top of the spine
      for (const side of [-1, 1]) {
        const along = (x - cx) * side;
        const yc = cy - lungRy * 1.05 - along * 0.25;
        if (along > s * 0.03 && along < s * 0.3 && Math.abs(y - yc) < s * 0.018) v = Math.max(v, 0.72);
      }
      // spine: a column of vertebrae (bright blocks with dark gaps)
      if (Math.abs(x - cx) < s * 0.045 && y > cy - lungRy * 1.1) {
        const seg = (y - cy) % (s * 0.07);
        v = Math.max(v, seg < s * 0.055 && seg > -s * 0.015 ? 0.78 : 0.62);
      }
      if (nodule && Math.hypot(x - nodule.x, y - nodule.y) < nodule.r) v = 0.9;
      if (
        x > marker.x &&
        x < marker.x + marker.size &&
        y > marker.y &&
        y < marker.y + marker.size * 1.4 &&
        (x < marker.x + marker.size * 0.3 || y > marker.y + marker.size * 1.1)
      )
        v = 1; // an "L" burned into the film
      if (tube && Math.abs(x - (tube.x0 + tube.slope * (y - cy))) < 1.2 && y < cy + s * 0.2) v = 0.85;
      work[y * w + x] = v + (rnd() - 0.5) * grain;
    }
  }
  let sum = 0;
  let sq = 0;
  const n = w * h;
  for (let i = 0; i < n; i++) sum += work[i];
  const mean = sum / n;
  for (let i = 0; i < n; i++) sq += (work[i] - mean) ** 2;
  const std = Math.sqrt(sq / n) || 1;
  const targetMean = 90 + rnd() * 50;
  const targetStd = 40 + rnd() * 20;
  const pixels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const g = targetMean + ((work[i] - mean) / std) * targetStd;
    pixels[i] = g < 0 ? 0 : g > 255 ? 255 : g;
  }
  return { pixels, width: w, height: h, label };
}
