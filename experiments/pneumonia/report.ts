import { finishRun } from '../common/result.js';
import type { PneumoniaFlags } from './options.js';
import type { EpochMetrics, StepInfo, TrainResult } from './train.js';

/** The JSON fields of a run after its identity (experiment, style, ranks). */
interface PneumoniaFields {
  epochs: number;
  seconds: number;
  losses: number[];
  accuracy: number;
  images_per_sec: number;
  backend: string;
  image_size: number;
  batch: number;
  lr: number;
  val_accuracies: number[];
  images_tested: number;
  train_seconds: number;
  skipped_images: number;
  param_checksum: string;
  steps: number;
  sync_checks: number;
}

/** The end of a run, on rank 0 or the pool's driver: the result JSON to `--out`, the paper's text on stdout. */
export function finishPneumonia(
  flags: PneumoniaFlags,
  style: 'spmd' | 'pool',
  ranks: number,
  r: TrainResult,
  backend: string,
): Promise<void> {
  const fields: PneumoniaFields = {
    epochs: r.losses.length,
    seconds: r.seconds,
    losses: r.losses,
    accuracy: r.accuracy,
    images_per_sec: r.imagesPerSec,
    backend,
    image_size: flags.imageSize,
    batch: flags.batch,
    lr: flags.lr,
    val_accuracies: r.valAccuracies,
    images_tested: r.testImages,
    train_seconds: r.trainSeconds,
    skipped_images: r.skippedImages,
    param_checksum: r.paramChecksum.toString(16).padStart(8, '0'),
    steps: r.steps,
    sync_checks: r.syncChecks,
  };
  return finishRun(flags.out, { experiment: 'pneumonia', style, ranks }, fields, paperText(r));
}

/** The seed's text result: time, classes, per-epoch training loss, images tested, accuracy. */
function paperText(r: TrainResult): string[] {
  return [
    `Training time: ${r.seconds.toFixed(2)} seconds`,
    `Classes: ${r.classes.join(', ')}`,
    ...r.losses.map((l, i) => `Epoch ${i + 1}, training loss: ${l.toFixed(6)}`),
    `Images tested: ${r.testImages}`,
    `Accuracy: ${(100 * r.accuracy).toFixed(2)} %`,
  ];
}

function clock(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const m = Math.floor(sec / 60);
  return m > 0 ? `${m}m${Math.round(sec % 60)}s` : `${sec.toFixed(1)}s`;
}

/**
 * The stderr lines of a run on rank 0 or the pool's driver: one a batch (loss, images/s and the ETA
 * of the run, from the batches counted since construction) and one an epoch.
 */
export class TrainProgress {
  private done = 0;
  private readonly t0 = performance.now();

  constructor(private readonly epochs: number) {}

  /** Counts one batch and returns its line. */
  step(s: StepInfo): string {
    this.done++;
    const sec = (performance.now() - this.t0) / 1000;
    const eta = (sec / this.done) * (s.steps * this.epochs - this.done);
    return (
      `epoch ${s.epoch}/${this.epochs} batch ${s.step}/${s.steps} loss ${s.loss.toFixed(4)} ` +
      `${(s.images / s.epochSeconds).toFixed(1)} img/s ETA ${clock(eta)}\n`
    );
  }

  epoch(m: EpochMetrics): string {
    return `epoch ${m.epoch}: loss ${m.loss.toFixed(6)} val accuracy ${m.valAccuracy.toFixed(4)} (${m.seconds.toFixed(1)} s)\n`;
  }
}
