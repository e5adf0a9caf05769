import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ImageDecodeError, ImageFolderError } from './images-errors.js';
import { type TransformSpec, transformInto } from './transforms.js';

/**
 * An image-folder split as torchvision's ImageFolder: DIR/<split>/<CLASS>/<image files>, labels by the
 * sorted class names (NORMAL = 0, PNEUMONIA = 1 for the chest X-ray set). Only paths are listed up
 * front; pixels are decoded per batch (see BatchLoader).
 */
export const IMAGE_EXTENSIONS = ['.jpeg', '.jpg', '.png'];

export interface ImageFolder {
  root: string;
  classes: string[];
  files: string[];
  labels: Int32Array;
}

export function listImageFolder(root: string, expectedClasses?: string[]): ImageFolder {
  let entries: string[];
  try {
    if (!statSync(root).isDirectory()) throw new Error('not a directory');
    entries = readdirSync(root);
  } catch (err) {
    throw new ImageFolderError(
      `image folder ${root} cannot be read (${(err as Error).message}); check --input`,
    );
  }
  const found = entries.filter((e) => !e.startsWith('.') && statSync(join(root, e)).isDirectory()).sort();
  const classes = expectedClasses ?? found;
  const missing = classes.filter((c) => !found.includes(c));
  if (missing.length > 0) {
    throw new ImageFolderError(
      `image folder ${root} has no class folder ${missing.map((m) => `'${m}'`).join(', ')} ` +
        `(found: ${found.length > 0 ? found.join(', ') : 'none'}); expected ${classes.join(', ')}`,
    );
  }
  const files: string[] = [];
  const labels: number[] = [];
  classes.forEach((cls, label) => {
    const dir = join(root, cls);
    const names = readdirSync(dir)
      .filter((n) => !n.startsWith('.') && IMAGE_EXTENSIONS.some((ext) => n.toLowerCase().endsWith(ext)))
      .sort();
    for (const n of names) {
      files.push(join(dir, n));
      labels.push(label);
    }
  });
  if (files.length === 0)
    throw new ImageFolderError(`image folder ${root} holds no ${IMAGE_EXTENSIONS.join('/')} files`);
  return { root, classes, files, labels: Int32Array.from(labels) };
}

export interface Batch {
  images: Float32Array;
  labels: Int32Array;
  /** images actually written (fewer than requested when bad images were skipped) */
  count: number;
  skipped: string[];
}

export interface BatchLoaderOptions {
  transform: TransformSpec;
  /** images decoded at once (sharp runs them on libuv's thread pool) */
  concurrency?: number;
  skipBadImages?: boolean;
}

/**
 * Decodes batches lazily; `prefetch` starts the next batch while the caller trains on the current one
 * (training is synchronous wasm, decoding runs on libuv threads, so the two overlap).
 */
export class BatchLoader {
  private readonly pixels: number;
  private readonly concurrency: number;

  constructor(
    private readonly folder: ImageFolder,
    private readonly opts: BatchLoaderOptions,
  ) {
    this.pixels = opts.transform.size * opts.transform.size * 3;
    this.concurrency = opts.concurrency ?? 4;
  }

  /** Decodes folder items `indices` with rotation `angles[i]` (degrees, train only). */
  async load(indices: ArrayLike<number>, angles?: ArrayLike<number>): Promise<Batch> {
    const n = indices.length;
    const images = new Float32Array(n * this.pixels);
    const labels = new Int32Array(n);
    const ok = new Uint8Array(n);
    const skipped: string[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < n; i = next++) {
        const file = this.folder.files[indices[i]];
        try {
          await transformInto(file, this.opts.transform, angles ? angles[i] : 0, images, i * this.pixels);
          ok[i] = 1;
        } catch (err) {
          if (!this.opts.skipBadImages) throw new ImageDecodeError(file, err);
          skipped.push(file);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, n) }, worker));
    // Compact the good images to the front so the batch is contiguous.
    let count = 0;
    for (let i = 0; i < n; i++) {
      if (!ok[i]) continue;
      if (count !== i) images.copyWithin(count * this.pixels, i * this.pixels, (i + 1) * this.pixels);
      labels[count++] = this.folder.labels[indices[i]];
    }
    return { images, labels, count, skipped };
  }
}
