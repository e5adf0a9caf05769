import { selectBackend } from '../../src/ml/backend.js';
import type { TrainGroup } from './group.js';
import type { PneumoniaFlags } from './options.js';
import { finishPneumonia, TrainProgress } from './report.js';
import { type TrainResult, train } from './train.js';

/**
 * Runs one rank of the SPMD style (spmd.ts) with `group` and, on rank 0, writes the JSON and prints the
 * paper's text. The pool style's workers train through pool-task.ts and its driver reports.
 */
export async function runPneumonia(flags: PneumoniaFlags, group: TrainGroup): Promise<TrainResult> {
  const log = (line: string) => process.stderr.write(line);
  const backend = await selectBackend(flags.backend);
  if (group.rank === 0)
    log(`pneumonia: backend ${backend}, ${group.size} rank(s), image size ${flags.imageSize}\n`);
  const progress = new TrainProgress(flags.epochs);
  const result = await train(
    {
      ...flags,
      onStep: (s) => {
        // Every rank counts its batches; rank 0 prints them.
        const line = progress.step(s);
        if (!flags.quiet && group.rank === 0) log(line);
      },
      onEpoch: (m) => {
        if (group.rank === 0) log(progress.epoch(m));
      },
    },
    group,
  );
  if (group.rank === 0) await finishPneumonia(flags, 'spmd', group.size, result, backend);
  return result;
}
