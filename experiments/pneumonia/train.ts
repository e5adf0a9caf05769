import { join } from 'node:path';
import { BatchLoader, type ImageFolder, listImageFolder } from '../../src/data/images.js';
import { DistributedSampler } from '../../src/data/sampler.js';
import { seededRandom } from '../../src/data/sampler-random.js';
import { Adam } from '../../src/ml/adam.js';
import { ParamsDivergedError } from './errors.js';
import { GradientComputer } from './gradients.js';
import { checksum, soloGroup, type TrainGroup } from './group.js';
import { BatchNormState, initParams, paramSpecs } from './model.js';
import { SyncBnGradientComputer } from './sync-bn.js';

/**
 * The seed's training loop, written once for any number of ranks (a one-rank group = plain training):
 * rank 0's initial parameters are broadcast; `batch` is the global batch, as in single-process training:
 * every step each rank trains on its share of the same global batch one process would use
 * (DistributedSampler.batchShare), and one allReduce sums the count-weighted gradients, the image count
 * and the loss, so every rank applies the one-process batch's mean-loss gradient in the same Adam step.
 * Before evaluating, the batch-norm running statistics are averaged over the ranks (each rank's come
 * from its share only). Accuracies come from all-reduced counts.
 *
 * Why a global batch: with a per-rank batch, n ranks took n-times larger and n-times fewer steps than
 * the one-process run with the same flags, and this network (Adam on a dense layer with 32·S²/4 inputs,
 * batch-norm running statistics with momentum 0.1) does not generalize the same way after fewer,
 * larger steps; the README's pneumonia section gives the measurements.
 */

const CLASSES = ['NORMAL', 'PNEUMONIA'];

export interface TrainOptions {
  input: string;
  epochs: number;
  /** global batch: images per optimizer step over all ranks (each rank takes its share) */
  batch: number;
  lr: number;
  imageSize: number;
  seed: number;
  /** images per forward/backward pass; the batch's gradient is accumulated over them */
  microBatch: number;
  skipBadImages: boolean;
  /** evaluate on the training geometry (resize S·256/224, centre crop S) instead of the seed's resize to S */
  evalCrop?: boolean;
  /** batch-norm moments over the global batch (allReduce inside each step), as torch's SyncBatchNorm */
  syncBn?: boolean;
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
  /** images all ranks trained on so far, this epoch */
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

/**
 * Averages the batch-norm running statistics over the ranks (each rank's come from its share only).
 * With --sync-bn they are equal on every rank already and are left as they are.
 */
async function averageBatchNorm(bn: BatchNormState, group: TrainGroup, synced: boolean): Promise<void> {
  if (group.size > 1 && !synced) bn.unpack(await group.allReduce(bn.pack(), 'avg'));
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
  const syncBn = opts.syncBn ? new SyncBnGradientComputer(specs, params, opts.imageSize, group) : undefined;
  const grads = syncBn ? syncBn.grads : gc.grads;
  const trainLoader = new BatchLoader(trainSet, {
    transform: { size: opts.imageSize, train: true },
    skipBadImages: opts.skipBadImages,
  });
  const evalLoader = (f: ImageFolder) =>
    new BatchLoader(f, {
      transform: { size: opts.imageSize, train: false, evalCrop: opts.evalCrop ?? false },
      skipBadImages: opts.skipBadImages,
    });
  const sampler = new DistributedSampler(trainSet.files.length, {
    rank: group.rank,
    size: group.size,
    seed: opts.seed,
  });
  const steps = sampler.batchesPerEpoch(opts.batch);
  // [count-weighted gradient sum, image count, count-weighted loss sum]: one allReduce per step
  const reduced = new Float32Array(params.length + 2);
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
    const order = sampler.order(epoch);
    const load = (s: number) => {
      const mine = sampler.batchShare(epoch, opts.batch, s, order);
      // Rotation per sample from (seed, epoch, sample index): the same augmentation whatever the rank count.
      const angles = Float32Array.from(mine, (i) => (seededRandom(opts.seed, epoch, i, 0xa9)() * 2 - 1) * 20);
      return trainLoader.load(mine, angles);
    };
    let lossSum = 0;
    let images = 0;
    let pending = load(0);
    for (let s = 0; s < steps; s++) {
      const batch = await pending;
      if (s + 1 < steps) pending = load(s + 1);
      skipped += batch.skipped.length;
      let loss: number;
      if (syncBn) {
        // Every rank runs the same number of micro-batches: their batch norms meet in collectives.
        const globalLen = Math.min(opts.batch, trainSet.files.length - s * opts.batch);
        const chunks = Math.max(1, Math.ceil(Math.ceil(globalLen / group.size) / opts.microBatch));
        loss = await syncBn.compute(batch.images, batch.labels, batch.count, bn, chunks);
      } else {
        loss = gc.compute(batch.images, batch.labels, batch.count, bn);
      }
      let count = batch.count;
      if (group.size > 1) {
        const g = grads;
        const n = batch.count;
        for (let i = 0; i < g.length; i++) reduced[i] = g[i] * n;
        reduced[g.length] = n;
        reduced[g.length + 1] = loss * n;
        await group.allReduce(reduced, 'sum');
        count = reduced[g.length];
        const inv = count > 0 ? 1 / count : 0;
        for (let i = 0; i < g.length; i++) g[i] = reduced[i] * inv;
        loss = reduced[g.length + 1] * inv;
      }
      adam.step(params, grads);
      totalSteps++;
      if (opts.checkSync && group.size > 1) {
        sums[0] = checksum(params);
        const all = await group.allGather(sums);
        const each = all.map((a) => a[0]);
        if (each.some((v) => v !== each[0])) throw new ParamsDivergedError(epoch + 1, s + 1, each);
        syncChecks++;
      }
      lossSum += loss;
      images += count;
      trained += batch.count;
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
    // The seed's epoch loss: the mean of the (global) batch losses, the same number on every rank.
    const epochLoss = steps > 0 ? lossSum / steps : 0;
    losses.push(epochLoss);
    await averageBatchNorm(bn, group, syncBn !== undefined);
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
  await averageBatchNorm(bn, group, syncBn !== undefined);
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
