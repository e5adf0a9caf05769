import { join } from 'node:path';
import { BatchLoader, type ImageFolder, listImageFolder } from '../../src/data/images.js';
import { DistributedSampler } from '../../src/data/sampler.js';
import { seededRandom } from '../../src/data/sampler-random.js';
import { Adam } from '../../src/ml/adam.js';
import { ParamsDivergedError } from './errors.js';
import { GradientComputer } from './gradients.js';
import { checksum, soloGroup, type TrainGroup } from './group.js';
import { BatchNormState, initParams, paramSpecs } from './model.js';

/**
 * The seed's training loop, written once for any number of ranks (a one-rank group = plain training):
 * rank 0's initial parameters are broadcast; each rank trains on its DistributedSampler share; after
 * each backward pass the flat gradient is averaged with one allReduce(…, 'avg') and every rank applies
 * the same Adam step; batch-norm running statistics stay local (broadcast from rank 0 only before
 * evaluating, as DDP's buffer broadcast would make them). Loss per epoch is the seed's (sum of batch
 * losses / batches), averaged over ranks; accuracies come from all-reduced counts.
 */

export const CLASSES = ['NORMAL', 'PNEUMONIA'];

export interface TrainOptions {
  input: string;
  epochs: number;
  /** per rank */
  batch: number;
  lr: number;
  imageSize: number;
  seed: number;
  /** images per forward/backward pass; the batch's gradient is accumulated over them */
  microBatch: number;
  skipBadImages: boolean;
  /** all-gather a parameter checksum after every step and fail if ranks differ */
  checkSync: boolean;
  onStep?: (s: StepInfo) => void;
  onEpoch?: (m: EpochMetrics) => void;
}

export interface StepInfo {
  epoch: number;
  step: number;
  steps: number;
  loss: number;
  /** images this rank trained on so far, this epoch */
  images: number;
  epochSeconds: number;
}

export interface EpochMetrics {
  epoch: number;
  loss: number;
  valAccuracy: number;
  seconds: number;
}

export interface TrainResult {
  classes: string[];
  losses: number[];
  valAccuracies: number[];
  accuracy: number;
  testImages: number;
  correct: number;
  /** training time only (no evaluation), seconds */
  trainSeconds: number;
  seconds: number;
  /** training images per second over all ranks */
  imagesPerSec: number;
  skippedImages: number;
  paramChecksum: number;
  steps: number;
  /** steps after which all ranks' parameter checksums were compared (--check-sync) */
  syncChecks: number;
}

/** Micro-batch that fits the wasm heap: ~16 images at 224², more for smaller images. */
export function defaultMicroBatch(imageSize: number, batch: number): number {
  return Math.max(1, Math.min(batch, Math.floor(16 * (224 / imageSize) ** 2)));
}

async function evaluate(
  folder: ImageFolder,
  loader: BatchLoader,
  gc: GradientComputer,
  bn: BatchNormState,
  group: TrainGroup,
  batch: number,
): Promise<{ correct: number; total: number; skipped: number }> {
  // Plain rank-strided split, no padding: every test image counted exactly once over all ranks.
  const mine: number[] = [];
  for (let i = group.rank; i < folder.files.length; i += group.size) mine.push(i);
  let correct = 0;
  let total = 0;
  let skipped = 0;
  const pred = new Int32Array(batch);
  let pending = mine.length > 0 ? loader.load(mine.slice(0, batch)) : undefined;
  for (let start = 0; start < mine.length; start += batch) {
    const b = await pending!;
    pending =
      start + batch < mine.length ? loader.load(mine.slice(start + batch, start + 2 * batch)) : undefined;
    gc.predict(b.images, b.count, bn, pred);
    for (let i = 0; i < b.count; i++) if (pred[i] === b.labels[i]) correct++;
    total += b.count;
    skipped += b.skipped.length;
  }
  const counts = await group.allReduce(new Float64Array([correct, total, skipped]), 'sum');
  return { correct: counts[0], total: counts[1], skipped: counts[2] };
}

async function syncBatchNorm(bn: BatchNormState, group: TrainGroup): Promise<void> {
  if (group.size > 1) bn.unpack(await group.broadcast(bn.pack(), 0));
}

export async function train(opts: TrainOptions, group: TrainGroup = soloGroup): Promise<TrainResult> {
  const t0 = performance.now();
  const trainSet = listImageFolder(join(opts.input, 'train'), CLASSES);
  const testSet = listImageFolder(join(opts.input, 'test'), CLASSES);
  const valSet = listImageFolder(join(opts.input, 'val'), CLASSES);
  const specs = paramSpecs(opts.imageSize);
  const params = initParams(specs, seededRandom(opts.seed, 0x1417));
  await group.broadcast(params, 0);
  const bn = new BatchNormState();
  const adam = new Adam(params.length, { lr: opts.lr });
  const gc = new GradientComputer(specs, params, opts.imageSize, opts.microBatch);
  const trainLoader = new BatchLoader(trainSet, {
    transform: { size: opts.imageSize, train: true },
    skipBadImages: opts.skipBadImages,
  });
  const evalLoader = (f: ImageFolder) =>
    new BatchLoader(f, {
      transform: { size: opts.imageSize, train: false },
      skipBadImages: opts.skipBadImages,
    });
  const sampler = new DistributedSampler(trainSet.files.length, {
    rank: group.rank,
    size: group.size,
    seed: opts.seed,
  });
  const steps = Math.ceil(sampler.numSamples / opts.batch);
  const losses: number[] = [];
  const valAccuracies: number[] = [];
  let trainMs = 0;
  let trained = 0;
  let skipped = 0;
  let totalSteps = 0;
  let syncChecks = 0;
  const sums = new Uint32Array(1);

  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const e0 = performance.now();
    const order = sampler.indices(epoch);
    // Rotation per sample from (seed, epoch, sample index): the same augmentation whatever the rank count.
    const angles = new Float32Array(order.length);
    for (let i = 0; i < order.length; i++)
      angles[i] = (seededRandom(opts.seed, epoch, order[i], 0xa9)() * 2 - 1) * 20;
    const load = (s: number) =>
      trainLoader.load(
        order.subarray(s * opts.batch, (s + 1) * opts.batch),
        angles.subarray(s * opts.batch, (s + 1) * opts.batch),
      );
    let lossSum = 0;
    let images = 0;
    let pending = load(0);
    for (let s = 0; s < steps; s++) {
      const batch = await pending;
      if (s + 1 < steps) pending = load(s + 1);
      skipped += batch.skipped.length;
      const loss = gc.compute(batch.images, batch.labels, batch.count, bn);
      await group.allReduce(gc.grads, 'avg');
      adam.step(params, gc.grads);
      totalSteps++;
      if (opts.checkSync && group.size > 1) {
        sums[0] = checksum(params);
        const all = await group.allGather(sums);
        const each = all.map((a) => a[0]);
        if (each.some((v) => v !== each[0])) throw new ParamsDivergedError(epoch + 1, s + 1, each);
        syncChecks++;
      }
      lossSum += loss;
      images += batch.count;
      opts.onStep?.({
        epoch: epoch + 1,
        step: s + 1,
        steps,
        loss,
        images,
        epochSeconds: (performance.now() - e0) / 1000,
      });
    }
    trainMs += performance.now() - e0;
    trained += images;
    const epochLoss = (await group.allReduce(new Float64Array([steps > 0 ? lossSum / steps : 0]), 'avg'))[0];
    losses.push(epochLoss);
    await syncBatchNorm(bn, group);
    const val = await evaluate(valSet, evalLoader(valSet), gc, bn, group, opts.batch);
    const valAccuracy = val.total > 0 ? val.correct / val.total : 0;
    valAccuracies.push(valAccuracy);
    opts.onEpoch?.({
      epoch: epoch + 1,
      loss: epochLoss,
      valAccuracy,
      seconds: (performance.now() - e0) / 1000,
    });
  }
  await syncBatchNorm(bn, group);
  const test = await evaluate(testSet, evalLoader(testSet), gc, bn, group, opts.batch);
  const totals = await group.allReduce(new Float64Array([trained, skipped, trainMs / 1000]), 'sum');
  // Ranks train in lockstep; the slowest rank's time is the job's, approximated by the mean.
  const trainSeconds = totals[2] / group.size;
  return {
    classes: trainSet.classes,
    losses,
    valAccuracies,
    accuracy: test.total > 0 ? test.correct / test.total : 0,
    testImages: test.total,
    correct: test.correct,
    trainSeconds,
    seconds: (performance.now() - t0) / 1000,
    imagesPerSec: trainSeconds > 0 ? totals[0] / trainSeconds : 0,
    skippedImages: totals[1] + test.skipped,
    paramChecksum: checksum(params),
    steps: totalSteps,
    syncChecks,
  };
}
