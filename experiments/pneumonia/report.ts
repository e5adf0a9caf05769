import type { TrainResult } from './train.js';

export interface PneumoniaJson {
  experiment: 'pneumonia';
  style: 'spmd' | 'pool';
  ranks: number;
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

export function toJson(
  style: 'spmd' | 'pool',
  ranks: number,
  r: TrainResult,
  extra: { backend: string; imageSize: number; batch: number; lr: number },
): PneumoniaJson {
  return {
    experiment: 'pneumonia',
    style,
    ranks,
    epochs: r.losses.length,
    seconds: r.seconds,
    losses: r.losses,
    accuracy: r.accuracy,
    images_per_sec: r.imagesPerSec,
    backend: extra.backend,
    image_size: extra.imageSize,
    batch: extra.batch,
    lr: extra.lr,
    val_accuracies: r.valAccuracies,
    images_tested: r.testImages,
    train_seconds: r.trainSeconds,
    skipped_images: r.skippedImages,
    param_checksum: r.paramChecksum.toString(16).padStart(8, '0'),
    steps: r.steps,
    sync_checks: r.syncChecks,
  };
}

/** The seed's text result: time, classes, per-epoch training loss, images tested, accuracy. */
export function paperText(r: TrainResult): string[] {
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

/** One progress line per batch for stderr: images/s and ETA of the run. */
export function progressLine(
  rankLabel: string,
  s: {
    epoch: number;
    epochs: number;
    step: number;
    steps: number;
    loss: number;
    imgPerSec: number;
    etaSec: number;
  },
): string {
  return (
    `${rankLabel}epoch ${s.epoch}/${s.epochs} batch ${s.step}/${s.steps} loss ${s.loss.toFixed(4)} ` +
    `${s.imgPerSec.toFixed(1)} img/s ETA ${clock(s.etaSec)}\n`
  );
}
