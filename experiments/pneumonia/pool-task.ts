/**
 * What each pool worker runs for pool.ts (like Ray Train's per-worker train loop): the same training
 * function as spmd.ts on the process group the pool formed, streaming progress to the driver.
 */

import { selectBackend } from '../../src/ml/backend.js';
import type { SpmdContext } from '../../src/pool/index.js';
import type { TrainGroup } from './group.js';
import type { PneumoniaFlags } from './options.js';
import { type EpochMetrics, type StepInfo, type TrainResult, train } from './train.js';

export type PoolEvent =
  | { kind: 'error'; rank: number; message: string }
  | { kind: 'step'; step: StepInfo }
  | { kind: 'epoch'; epoch: EpochMetrics }
  | { kind: 'backend'; name: string };

export async function trainOnWorker(
  ctx: SpmdContext,
  flags: PneumoniaFlags,
): Promise<{ result: TrainResult; backend: string } | undefined> {
  try {
    return await trainRank(ctx, flags);
  } catch (err) {
    // The pool reports the first collective mismatch the failing rank causes; send the root cause too.
    ctx.emit({ kind: 'error', rank: ctx.rank, message: (err as Error).message } satisfies PoolEvent);
    throw err;
  }
}

async function trainRank(
  ctx: SpmdContext,
  flags: PneumoniaFlags,
): Promise<{ result: TrainResult; backend: string } | undefined> {
  const backend = await selectBackend(flags.backend);
  if (ctx.rank === 0) ctx.emit({ kind: 'backend', name: backend } satisfies PoolEvent);
  const result = await train(
    {
      ...flags,
      onStep: (step) => {
        if (ctx.rank === 0 && !flags.quiet) ctx.emit({ kind: 'step', step } satisfies PoolEvent);
      },
      onEpoch: (epoch) => {
        if (ctx.rank === 0) ctx.emit({ kind: 'epoch', epoch } satisfies PoolEvent);
      },
    },
    ctx.pg as unknown as TrainGroup,
  );
  return ctx.rank === 0 ? { result, backend } : undefined;
}
