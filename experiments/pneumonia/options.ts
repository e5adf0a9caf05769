import { BACKEND_CHOICES, type BackendChoice } from '../../src/ml/backend.js';
import { experimentCli, requirePositive, UsageError } from '../common/flags.js';
import { defaultMicroBatch, type TrainOptions } from './train.js';

export interface PneumoniaFlags extends Omit<TrainOptions, 'onStep' | 'onEpoch'> {
  out: string | undefined;
  workers: number | undefined;
  backend: BackendChoice;
  quiet: boolean;
}

/** Parses the pneumonia flags (docs/ARCHITECTURE.md "Experiments" plus tsrun's extras). */
export function parsePneumoniaFlags(script: string, argv?: string[]): PneumoniaFlags {
  const a = experimentCli(script, argv)
    .option('epochs', { type: 'number', default: 10, describe: 'training epochs' })
    .option('batch', {
      type: 'number',
      default: 64,
      describe:
        'global batch: images per optimizer step summed over all ranks (each rank trains on about batch/ranks of them), like one process; not the per-rank batch of a torch DataLoader under DistributedSampler',
    })
    .option('lr', { type: 'number', default: 0.01, describe: 'Adam learning rate' })
    .option('image-size', {
      type: 'number',
      default: 224,
      describe: 'input side S (train resizes to S·256/224, crops S)',
    })
    .option('seed', {
      type: 'number',
      default: 0,
      describe: 'seed of the initial weights, shuffling and augmentation',
    })
    .option('micro-batch', {
      type: 'number',
      describe: 'images per forward/backward pass (gradients accumulated); default fits the wasm heap',
    })
    .option('backend', {
      choices: BACKEND_CHOICES as BackendChoice[],
      default: 'auto' as BackendChoice,
      describe: 'tfjs backend: auto = tfjs-node if installed, else wasm, else cpu',
    })
    .option('skip-bad-images', {
      type: 'boolean',
      default: false,
      describe: 'count and skip undecodable images',
    })
    .option('eval-crop', {
      type: 'boolean',
      default: false,
      describe:
        "evaluate on resize S·256/224 + centre crop S (the training geometry) instead of the seed's resize to S",
    })
    .option('sync-bn', {
      type: 'boolean',
      default: false,
      describe:
        'batch-norm moments over the whole global batch (all-reduced inside every step, as torch SyncBatchNorm) instead of per rank',
    })
    .option('check-sync', {
      type: 'boolean',
      default: false,
      describe: 'after every step all-gather a parameter checksum and fail if ranks differ',
    })
    .option('quiet', { type: 'boolean', default: false, describe: 'no per-batch progress lines on stderr' })
    .parseSync();
  requirePositive('epochs', a.epochs);
  requirePositive('batch', a.batch);
  requirePositive('lr', a.lr);
  if (!Number.isInteger(a.epochs) || !Number.isInteger(a.batch))
    throw new UsageError('--epochs and --batch must be integers');
  const size = a['image-size'];
  if (!Number.isInteger(size) || size < 4 || size % 2 !== 0) {
    throw new UsageError(`--image-size must be an even integer ≥ 4, got ${size}`);
  }
  const micro = a['micro-batch'] ?? defaultMicroBatch(size, a.batch);
  if (!Number.isInteger(micro) || micro < 1)
    throw new UsageError(`--micro-batch must be a positive integer, got ${micro}`);
  return {
    input: a.input,
    out: a.out,
    workers: a.workers,
    epochs: a.epochs,
    batch: a.batch,
    lr: a.lr,
    imageSize: size,
    seed: a.seed,
    microBatch: micro,
    backend: a.backend,
    skipBadImages: a['skip-bad-images'],
    checkSync: a['check-sync'],
    evalCrop: a['eval-crop'],
    syncBn: a['sync-bn'],
    quiet: a.quiet,
  };
}
