/**
 * Synthetic chest X-ray set laid out as Kaggle's "Chest X-Ray Images (Pneumonia)":
 * DIR/{train,test,val}/{NORMAL,PNEUMONIA}/*.jpeg with its class counts at --scale 1
 * (train 1,341 / 3,875, test 234 / 390, val 8 / 8), varied sizes around --size, grayscale JPEGs.
 *
 *   npx tsx experiments/datagen/xray.ts --out data/xray                       # full size
 *   npx tsx experiments/datagen/xray.ts --out data/xray-small --scale 0.05 --size 96
 *
 * Same --seed, same files. Each image is written to a temp name and renamed, so an interrupted run
 * leaves only whole images; an existing complete image is kept (re-runs resume).
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runWindowed } from '../../collectives/algorithms/windowed.js';
import { seededRandom } from '../../src/data/sampler-random.js';
import { UsageError } from '../common/flags.js';
import { runMain } from '../common/run-main.js';
import { BASE, drawXray } from './xray-model.js';

export const KAGGLE_COUNTS = {
  train: { NORMAL: 1341, PNEUMONIA: 3875 },
  test: { NORMAL: 234, PNEUMONIA: 390 },
  val: { NORMAL: 8, PNEUMONIA: 8 },
} as const;

export type Split = keyof typeof KAGGLE_COUNTS;
const SPLIT_SEED: Record<Split, number> = { train: 1, test: 2, val: 3 };

export interface XrayGenOptions {
  out: string;
  scale: number;
  size: number;
  seed: number;
  /** images per split and class instead of the Kaggle counts at `scale` (e.g. a balanced test set) */
  counts?: Record<Split, { NORMAL: number; PNEUMONIA: number }>;
  concurrency?: number;
  onImage?: () => void;
}

/** Per split and class, the number of images at `scale` (at least one of each). */
export function countsAt(scale: number): Record<Split, { NORMAL: number; PNEUMONIA: number }> {
  const r = (n: number) => Math.max(1, Math.round(n * scale));
  const out = {} as Record<Split, { NORMAL: number; PNEUMONIA: number }>;
  for (const split of Object.keys(KAGGLE_COUNTS) as Split[]) {
    const c = KAGGLE_COUNTS[split];
    out[split] = { NORMAL: r(c.NORMAL), PNEUMONIA: r(c.PNEUMONIA) };
  }
  return out;
}

function fileName(label: 0 | 1, i: number, rnd: () => number): string {
  if (label === 0) return `IM-${String(i + 1).padStart(4, '0')}-0001.jpeg`;
  return `person${i + 1}_${rnd() < 0.35 ? 'virus' : 'bacteria'}_${i + 1}.jpeg`;
}

async function writeOne(
  path: string,
  seed: number,
  label: 0 | 1,
  index: number,
  size: number,
): Promise<void> {
  const work = new Float32Array(BASE * BASE);
  const pic = drawXray(seed, label, index, work);
  const rnd = seededRandom(seed, label, index, 99);
  // Kaggle's scans vary in size and aspect (mostly wider than tall).
  const width = Math.max(16, Math.round(size * (0.85 + rnd() * 0.4)));
  const height = Math.max(16, Math.round(size * (0.7 + rnd() * 0.3)));
  const tmp = `${path}.${process.pid}.tmp`;
  await sharp(Buffer.from(pic.pixels), { raw: { width: BASE, height: BASE, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' })
    .toColourspace('b-w')
    .jpeg({ quality: 85 })
    .toFile(tmp);
  renameSync(tmp, path);
}

/** Generates the whole set; returns the number of images written or kept. */
export async function generateXraySet(opts: XrayGenOptions): Promise<number> {
  const counts = opts.counts ?? countsAt(opts.scale);
  const jobs: { path: string; seed: number; label: 0 | 1; index: number }[] = [];
  for (const split of Object.keys(counts) as Split[]) {
    (['NORMAL', 'PNEUMONIA'] as const).forEach((cls, label) => {
      const dir = join(opts.out, split, cls);
      mkdirSync(dir, { recursive: true });
      const names = seededRandom(opts.seed, SPLIT_SEED[split], label, 7);
      for (let i = 0; i < counts[split][cls]; i++) {
        jobs.push({
          path: join(dir, fileName(label as 0 | 1, i, names)),
          seed: opts.seed * 4 + SPLIT_SEED[split],
          label: label as 0 | 1,
          index: i,
        });
      }
    });
  }
  // A few images encode at once: sharp works off the main thread.
  await runWindowed(jobs.length, opts.concurrency ?? 4, async (j) => {
    const job = jobs[j];
    if (!existsSync(job.path)) await writeOne(job.path, job.seed, job.label, job.index, opts.size);
    opts.onImage?.();
  });
  return jobs.length;
}

async function main(): Promise<void> {
  const args = yargs(hideBin(process.argv))
    .scriptName('datagen/xray')
    .strict()
    .option('out', { type: 'string', demandOption: true, describe: 'output folder (train/test/val inside)' })
    .option('scale', {
      type: 'number',
      default: 1,
      describe: 'fraction of the Kaggle class counts (1 = 5,856 images)',
    })
    .option('size', {
      type: 'number',
      default: 1024,
      describe: 'typical image side in pixels (sizes vary ±30%)',
    })
    .option('seed', { type: 'number', default: 0, describe: 'random seed (same seed, same images)' })
    .help()
    .parseSync();
  if (!(args.scale > 0)) throw new UsageError(`--scale must be > 0, got ${args.scale}`);
  if (!Number.isInteger(args.size) || args.size < 16)
    throw new UsageError(`--size must be an integer ≥ 16, got ${args.size}`);
  const t0 = performance.now();
  let done = 0;
  const total = await generateXraySet({
    out: args.out,
    scale: args.scale,
    size: args.size,
    seed: args.seed,
    onImage: () => {
      done++;
      if (done % 500 === 0) process.stderr.write(`xray: ${done} images\n`);
    },
  });
  process.stdout.write(
    `xray: ${total} images in ${args.out} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) runMain(main);
