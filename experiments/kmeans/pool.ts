/**
 * k-means, task-pool style (Ray-like): this process is the driver.
 *
 *   npx tsx experiments/kmeans/pool.ts --input edges.csv --k 16 --mode paper --workers 2     # embedded pool
 *   tsrun --pool --hostfile hosts experiments/kmeans/pool.ts --input edges.csv --mode global  # a cluster
 *
 * paper: one task per block (the driver hands out byte ranges, each task reads its own), at most
 * 2 × workers in flight; scores arrive in block order and are averaged in that order, as the SPMD
 * ranks do (drivers/paper-pool.ts). global: the blocks are loaded once into the workers' object stores
 * and Lloyd's loop runs on the driver over per-block partials (drivers/global-pool.ts): bit-identical
 * to the SPMD style.
 */
import { connect } from '../../src/pool/index.js';
import { Progress } from '../common/progress.js';
import { finishRun } from '../common/result.js';
import { runMain } from '../common/run-main.js';
import { globalKmeansPool } from './drivers/global-pool.js';
import { paperKmeansPool } from './drivers/paper-pool.js';
import { globalFields, type KmeansArgs, paperText, parseKmeansArgs } from './options.js';
import { listBlocks } from './setup/blocks.js';

async function main(): Promise<void> {
  const args: KmeansArgs = parseKmeansArgs('experiments/kmeans/pool.ts');
  const input = await listBlocks(args.input, args.blockMb * 1048576, args.skipBadLines);
  const pool = await connect(args.workers === undefined ? {} : { workers: args.workers });
  try {
    const workers = pool.workers ?? Number((await pool.status()).workers);
    const t0 = performance.now();
    const progress = new Progress('[kmeans pool]', input.blocks.length, 'blocks');
    let result: { calinski_harabasz: number };
    if (args.mode === 'paper') {
      result = await paperKmeansPool(pool, input, workers, {
        ...args,
        onBlock: (b, r) =>
          progress.tick(1, `block ${b} rows ${r.rows} iterations ${r.iterations} CH ${r.score.toFixed(3)}`),
      });
    } else {
      const r = await globalKmeansPool(pool, input, {
        ...args,
        onLoaded: (i) => progress.tick(1, `loaded block ${i}`),
        onIteration: (it, shift, inertia) =>
          progress.note(`iteration ${it} shift ${shift.toExponential(3)} inertia ${inertia}`),
      });
      result = globalFields(r, input.blocks.length);
    }
    const seconds = (performance.now() - t0) / 1000;
    await finishRun(
      args.out,
      { experiment: 'kmeans', style: 'pool', mode: args.mode, ranks: workers },
      { seconds, ...result },
      paperText(args, workers, result.calinski_harabasz, seconds, 'pool'),
    );
  } finally {
    await pool.close();
  }
}

runMain(main);
