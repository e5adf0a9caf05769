/**
 * One training step of the torch parity batch (experiments/pneumonia/parity-inputs.ts) on this rank's
 * strided share, for test/pneumonia-sync-bn.test.ts: with --sync-bn (SyncBnGradientComputer) or the
 * per-rank batch norm (GradientComputer). Runs under runRanks (real rank processes) or with soloGroup.
 */

import { GradientComputer } from '../../experiments/pneumonia/gradients.js';
import type { TrainGroup } from '../../experiments/pneumonia/group.js';
import { BatchNormState } from '../../experiments/pneumonia/model.js';
import { parityInputs } from '../../experiments/pneumonia/parity-inputs.js';
import { SyncBnGradientComputer } from '../../experiments/pneumonia/sync-bn.js';
import { init } from '../../src/index.js';
import { selectBackend } from '../../src/ml/backend.js';

export interface StepOutcome {
  rank: number;
  count: number;
  loss: number;
  /** mean-loss gradient over this rank's images */
  grads: Float32Array;
  /** running mean1, var1, mean2, var2 after the step (BatchNormState.pack) */
  running: Float32Array;
}

/** `take`: use only the batch's first images (fewer than the ranks leaves a rank with none). */
export async function stepOnShare(group: TrainGroup, sync: boolean, take?: number): Promise<StepOutcome> {
  await selectBackend('wasm');
  const p = parityInputs();
  const pixels = p.size * p.size * 3;
  const mine: number[] = [];
  for (let i = group.rank; i < (take ?? p.n); i += group.size) mine.push(i);
  const images = new Float32Array(mine.length * pixels);
  mine.forEach((src, k) => {
    images.set(p.images.subarray(src * pixels, (src + 1) * pixels), k * pixels);
  });
  const labels = Int32Array.from(mine, (i) => p.labels[i]);
  const bn = new BatchNormState();
  let loss: number;
  let grads: Float32Array;
  if (sync) {
    const gc = new SyncBnGradientComputer(p.specs, p.params, p.size, group);
    loss = await gc.compute(images, labels, mine.length, bn, 1);
    grads = gc.grads;
  } else {
    const gc = new GradientComputer(p.specs, p.params, p.size, p.n);
    loss = gc.compute(images, labels, mine.length, bn);
    grads = gc.grads;
  }
  return { rank: group.rank, count: mine.length, loss, grads: grads.slice(), running: bn.pack() };
}

export async function stepOnRank(sync: boolean, take?: number): Promise<StepOutcome> {
  process.env.TSRUN_AUTO_DESTROY ??= '0';
  const pg = await init();
  try {
    return await stepOnShare(pg as unknown as TrainGroup, sync, take);
  } finally {
    await pg.destroy();
  }
}
