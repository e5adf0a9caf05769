/**
 * A second synthetic chest-radiograph set (radiograph-model.ts), in the same Kaggle layout as xray.ts
 * but with another look, balanced classes and every side drawn independently between --min-side and
 * --max-side (so aspect ratios run from portrait to landscape):
 * DIR/{train,test,val}/{NORMAL,PNEUMONIA}/*.jpg, grayscale JPEGs of varying quality.
 *
 *   npx tsx experiments/datagen/radiograph.ts --out data/radiograph --train 160 --test 40 --val 8
 *
 * Same --seed, same files. Each image is written to a temp name and renamed; existing images are kept.
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
import { drawRadiograph } from './radiograph-model.js';

export interface RadiographGenOptions {
  out: string;
  /** images per class in each split */
  train: number;
  test: number;
  val: number;
  minSide?: number;
  maxSide?: number;
  seed: number;
  concurrency?: number;
}

const SPLIT_SEED = { train: 11, test: 12, val: 13 } as const;

async function writeOne(
  path: string,
  seed: number,
  label: 0 | 1,
  index: number,
  minSide: number,
  maxSide: number,
): Promise<void> {
  const rnd = seededRandom(seed, label, index, 0x51de);
  const side = () => Math.round(minSide + rnd() * (maxSide - minSide));
  const width = side();
  const height = side();
  const quality = 70 + Math.floor(rnd() * 25);
  const pic = drawRadiograph(seed, label, index, width, height);
  const tmp = `${path}.${process.pid}.tmp`;
  await sharp(Buffer.from(pic.pixels), { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .jpeg({ quality })
    .toFile(tmp);
  renameSync(tmp, path);
}

/** Generates the whole set; returns the number of images written or kept. */
export async function generateRadiographSet(opts: RadiographGenOptions): Promise<number> {
  const minSide = opts.minSide ?? 180;
  const maxSide = opts.maxSide ?? 320;
  const jobs: { path: string; seed: number; label: 0 | 1; index: number }[] = [];
  for (const split of ['train', 'test', 'val'] as const) {
    (['NORMAL', 'PNEUMONIA'] as const).forEach((cls, label) => {
      const dir = join(opts.out, split, cls);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < opts[split]; i++) {
        jobs.push({
          path: join(dir, `${cls.toLowerCase()}-${String(i).padStart(5, '0')}.jpg`),
          seed: opts.seed * 16 + SPLIT_SEED[split],
          label: label as 0 | 1,
          index: i,
        });
      }
    });
  }
  // A few images encode at once: sharp works off the main thread.
  await runWindowed(jobs.length, opts.concurrency ?? 4, async (j) => {
    const job = jobs[j];
    if (!existsSync(job.path)) await writeOne(job.path, job.seed, job.label, job.index, minSide, maxSide);
  });
  return jobs.length;
}

async function main(): Promise<void> {
  const args = yargs(hideBin(process.argv))
    .scriptName('datagen/radiograph')
    .strict()
    .option('out', { type: 'string', demandOption: true, describe: 'output folder (train/test/val inside)' })
    .option('train', { type: 'number', default: 160, describe: 'training images per class' })
    .option('test', { type: 'number', default: 40, describe: 'test images per class' })
    .option('val', { type: 'number', default: 8, describe: 'validation images per class' })
    .option('min-side', { type: 'number', default: 180, describe: 'smallest image side in pixels' })
    .option('max-side', { type: 'number', default: 320, describe: 'largest image side in pixels' })
    .option('seed', { type: 'number', default: 0, describe: 'random seed (same seed, same images)' })
    .help()
    .parseSync();
  for (const k of ['train', 'test', 'val'] as const) {
    if (!Number.isInteger(args[k]) || args[k] < 1)
      throw new UsageError(`--${k} must be a positive integer (images per class), got ${args[k]}`);
  }
  const lo = args['min-side'];
  const hi = args['max-side'];
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 16 || hi < lo)
    throw new UsageError(`--min-side/--max-side must be integers with 16 ≤ min ≤ max, got ${lo}/${hi}`);
  const t0 = performance.now();
  const total = await generateRadiographSet({
    out: args.out,
    train: args.train,
    test: args.test,
    val: args.val,
    minSide: lo,
    maxSide: hi,
    seed: args.seed,
  });
  process.stdout.write(
    `radiograph: ${total} images in ${args.out} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) runMain(main);
