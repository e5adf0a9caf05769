/**
 * Training runs for bench/pneumonia-equivalence.ts, executed on real rank processes: `spmdRuns` under
 * runRanks (each rank joins the group with init()), `poolRuns` as a pool.spmd task. One launch trains
 * every (set, seed) in turn, so process start-up and backend set-up are paid once per rank count.
 */

import type { TrainGroup } from '../../experiments/pneumonia/group.js';
import { train } from '../../experiments/pneumonia/train.js';
import { init, type SpmdContext } from '../../src/index.js';
import { selectBackend } from '../../src/ml/backend.js';

export interface RunSpec {
  input: string;
  seed: number;
  epochs: number;
  batch: number;
  lr: number;
  imageSize: number;
  evalCrop: boolean;
  syncBn?: boolean;
}

export interface RunOutcome {
  accuracy: number;
  losses: number[];
  steps: number;
  syncChecks: number;
}

export async function trainAll(runs: RunSpec[], group: TrainGroup): Promise<RunOutcome[]> {
  await selectBackend('wasm');
  const out: RunOutcome[] = [];
  for (const r of runs) {
    const res = await train({ ...r, microBatch: r.batch, skipBadImages: false, checkSync: true }, group);
    out.push({ accuracy: res.accuracy, losses: res.losses, steps: res.steps, syncChecks: res.syncChecks });
  }
  return out;
}

export async function spmdRuns(runs: RunSpec[]): Promise<RunOutcome[]> {
  process.env.TSRUN_AUTO_DESTROY ??= '0';
  const pg = await init();
  return trainAll(runs, pg as unknown as TrainGroup);
}

export async function poolRuns(ctx: SpmdContext, runs: RunSpec[]): Promise<RunOutcome[]> {
  return trainAll(runs, ctx.pg as unknown as TrainGroup);
}
