import { selectBackend } from '../../src/ml/backend.js';
import { printPaperText, writeResult } from '../common/result.js';
import type { TrainGroup } from './group.js';
import type { PneumoniaFlags } from './options.js';
import { paperText, progressLine, toJson } from './report.js';
import { type TrainResult, train } from './train.js';

/**
 * Runs one rank of the experiment with `group` and, on rank 0, prints the paper's text and writes the
 * JSON. Shared by spmd.ts (tsrun ranks) and the pool's SPMD workers.
 */
export async function runPneumonia(
  style: 'spmd' | 'pool',
  flags: PneumoniaFlags,
  group: TrainGroup,
  log: (line: string) => void = (l) => process.stderr.write(l),
): Promise<TrainResult> {
  const backend = await selectBackend(flags.backend);
  if (group.rank === 0)
    log(`pneumonia: backend ${backend}, ${group.size} rank(s), image size ${flags.imageSize}\n`);
  const t0 = performance.now();
  let done = 0;
  const result = await train(
    {
      ...flags,
      onStep: (s) => {
        done++;
        if (flags.quiet || group.rank !== 0) return;
        const sec = (performance.now() - t0) / 1000;
        const totalSteps = s.steps * flags.epochs;
        log(
          progressLine('', {
            epoch: s.epoch,
            epochs: flags.epochs,
            step: s.step,
            steps: s.steps,
            loss: s.loss,
            imgPerSec: s.images / s.epochSeconds,
            etaSec: (sec / done) * (totalSteps - done),
          }),
        );
      },
      onEpoch: (m) => {
        if (group.rank === 0) {
          log(
            `epoch ${m.epoch}: loss ${m.loss.toFixed(6)} val accuracy ${m.valAccuracy.toFixed(4)} (${m.seconds.toFixed(1)} s)\n`,
          );
        }
      },
    },
    group,
  );
  if (group.rank === 0) {
    printPaperText(paperText(result));
    await writeResult(
      flags.out,
      toJson(style, group.size, result, {
        backend,
        imageSize: flags.imageSize,
        batch: flags.batch,
        lr: flags.lr,
      }),
    );
  }
  return result;
}
