/**
 * Pneumonia X-ray CNN, task-pool style (as Ray Train's TorchTrainer): the driver asks N pool workers
 * to form a process group and run the training function (pool-task.ts), prints the per-epoch metrics
 * as they arrive, then the paper's text and the JSON.
 *
 *   npx tsx experiments/pneumonia/pool.ts --input data/xray --workers 2        # embedded pool
 *   node bin/tsrun.js --pool --nproc-per-node 3 experiments/pneumonia/pool.ts --input data/xray
 */
import { connect } from '../../src/pool/index.js';
import { runMain } from '../common/run-main.js';
import { parsePneumoniaFlags } from './options.js';
import type { PoolEvent, trainOnWorker } from './pool-task.js';
import { finishPneumonia, TrainProgress } from './report.js';

const TASK = new URL('./pool-task.ts', import.meta.url);

async function main(): Promise<void> {
  const flags = parsePneumoniaFlags('pneumonia/pool');
  const pool = await connect(flags.workers === undefined ? {} : { workers: flags.workers });
  try {
    const ranks = pool.workers ?? flags.workers ?? 1;
    const progress = new TrainProgress(flags.epochs);
    const onEvent = (v: unknown) => {
      const e = v as PoolEvent;
      if (e.kind === 'error') {
        process.stderr.write(`pneumonia: pool rank ${e.rank} failed: ${e.message}\n`);
      } else if (e.kind === 'backend') {
        process.stderr.write(
          `pneumonia: backend ${e.name}, ${ranks} pool worker(s), image size ${flags.imageSize}\n`,
        );
      } else if (e.kind === 'step') {
        process.stderr.write(progress.step(e.step));
      } else {
        process.stderr.write(progress.epoch(e.epoch));
      }
    };
    const results = await pool.spmd<Awaited<ReturnType<typeof trainOnWorker>>>(
      TASK,
      'trainOnWorker',
      { ranks, onEvent },
      flags,
    );
    const first = results[0];
    if (first === undefined) throw new Error('pool rank 0 returned no result');
    await finishPneumonia(flags, 'pool', ranks, first.result, first.backend);
  } finally {
    await pool.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) runMain(main);
