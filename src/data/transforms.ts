import sharp, { type Sharp } from 'sharp';

/**
 * The seed's torchvision transforms with sharp, writing float NHWC RGB straight into a batch buffer:
 * - train: resize to R×R (R = round(S·256/224)) → random rotation ±20° (black fill) → center crop S → normalise
 * - test:  resize to S×S → normalise (the seed's), or with `evalCrop` resize to R×R → center crop S →
 *          normalise (torchvision's usual evaluation: the geometry training saw, without the rotation)
 * with S = --image-size (224 in the paper) and ImageNet mean/std. Grayscale (1-2 channel) and RGBA
 * images become 3-channel RGB, as the seed's `.convert('RGB')`.
 */

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export interface TransformSpec {
  /** output side S */
  size: number;
  train: boolean;
  /** max |rotation| in degrees for train (20 as the seed) */
  maxRotation?: number;
  /** test images: resize to R and crop S like training instead of squeezing the whole image to S */
  evalCrop?: boolean;
}

export function resizeSideFor(size: number): number {
  return Math.round((size * 256) / 224);
}

interface Raw {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

async function toRaw(img: Sharp): Promise<Raw> {
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/**
 * Normalises the centred S×S window of `raw` into out[offset .. offset + S·S·3). Pixels outside the
 * source (possible only if the source is smaller than S) are black.
 */
export function normaliseInto(raw: Raw, size: number, out: Float32Array, offset: number): void {
  const { data, width, height, channels } = raw;
  const x0 = Math.floor((width - size) / 2);
  const y0 = Math.floor((height - size) / 2);
  // Gray and gray+alpha repeat their first band; RGB(A) takes bands 0..2.
  const g = channels < 3 ? 0 : 1;
  const b = channels < 3 ? 0 : 2;
  const m0 = IMAGENET_MEAN[0];
  const m1 = IMAGENET_MEAN[1];
  const m2 = IMAGENET_MEAN[2];
  const s0 = 1 / (255 * IMAGENET_STD[0]);
  const s1 = 1 / (255 * IMAGENET_STD[1]);
  const s2 = 1 / (255 * IMAGENET_STD[2]);
  const k0 = m0 / IMAGENET_STD[0];
  const k1 = m1 / IMAGENET_STD[1];
  const k2 = m2 / IMAGENET_STD[2];
  let o = offset;
  for (let y = 0; y < size; y++) {
    const sy = y + y0;
    for (let x = 0; x < size; x++, o += 3) {
      const sx = x + x0;
      if (sy < 0 || sy >= height || sx < 0 || sx >= width) {
        out[o] = -k0;
        out[o + 1] = -k1;
        out[o + 2] = -k2;
        continue;
      }
      const p = (sy * width + sx) * channels;
      out[o] = data[p] * s0 - k0;
      out[o + 1] = data[p + g] * s1 - k1;
      out[o + 2] = data[p + b] * s2 - k2;
    }
  }
}

/**
 * Decodes `input` (path or encoded bytes), applies the transform and writes S·S·3 floats at `offset`.
 * `angle` is the rotation in degrees for train (drawn by the caller from a seeded stream).
 */
export async function transformInto(
  input: string | Buffer,
  spec: TransformSpec,
  angle: number,
  out: Float32Array,
  offset: number,
): Promise<void> {
  const s = spec.size;
  // Like PIL: a truncated file is an error, a mere libjpeg warning (common in real scans) is not.
  const src = sharp(input, { failOn: 'truncated' }).toColourspace('srgb');
  const r = resizeSideFor(s);
  if (!spec.train) {
    const side = spec.evalCrop ? r : s;
    normaliseInto(await toRaw(src.resize(side, side, { fit: 'fill' })), s, out, offset);
    return;
  }
  const resized = await toRaw(src.resize(r, r, { fit: 'fill' }));
  // sharp applies rotate before resize inside one pipeline, so rotation is a second pass on raw pixels.
  // It expands the canvas; its centre stays the image centre, so the centred crop below equals
  // torchvision's rotate(expand=False) followed by CenterCrop.
  const rotated = await toRaw(
    sharp(resized.data, {
      raw: { width: resized.width, height: resized.height, channels: resized.channels as 3 },
    }).rotate(angle, { background: { r: 0, g: 0, b: 0, alpha: 1 } }),
  );
  normaliseInto(rotated, s, out, offset);
}
