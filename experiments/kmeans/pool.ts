/**
 * k-means, task-pool style (Ray-like): this process is the driver.
 *
 *   npx tsx experiments/kmeans/pool.ts --input edges.csv --k 16 --mode paper --workers 2     # embedded pool
 *   tsrun --pool --hostfile hosts experiments/kmeans/pool.ts --input edges.csv --mode global  # a cluster
 *
 * paper: one task per block (the driver hands out byte ranges, each task reads its own), at most
 * 2 × workers in flight; scores arrive in block order and are averaged in that order, as the SPMD
 * ranks do. global: the blocks are loaded once into the workers' object stores and Lloyd's loop runs on
 * the driver over per-block partials (pool-blocks.ts): bit-identical to the SPMD style.
 */
import { connect } from '../../src/pool/index.js';
import { Progress } from '../common/progress.js';
import { printPaperText, writeResult } from '../common/result.js';
import { runMain } from '../common/run-main.js';
import { blockFile, listBlocks } from './blocks.js';
import { globalLloyd } from './global-kmeans.js';
import { type KmeansArgs, paperText, parseKmeansArgs } from './options.js';
import { PoolBlocks } from './pool-blocks.js';

const TASKS = new URL('./pool-tasks.ts', import.meta.url);

async function main(): Promise<void> {
  const args: KmeansArgs = parseKmeansArgs('experiments/kmeans/pool.ts');
  const input = await listBlocks(args.input, args.blockMb * 1048576, args.skipBadLines);
  const pool = await connect(args.workers === undefined ? {} : { workers: args.workers });
  try {
    const workers = pool.workers ?? Number((await pool.status()).workers);
    const t0 = performance.now();
    const file = blockFile(input);
    const progress = new Progress('[kmeans pool]', input.blocks.length, 'blocks');
    let result: Record<string, unknown>;
    let score: number;
    if (args.mode === 'paper') {
      type T = typeof import('./pool-tasks.js');
      const block = pool.remote<T['paperBlock']>(TASKS, 'paperBlock');
      const argsList = input.blocks.map(
        (b) => [file, b, args.k, args.seed, args.maxIter, args.tol] as Parameters<T['paperBlock']>,
      );
      let sum = 0;
      let rows = 0;
      let b = 0;
      for await (const r of pool.map(block, argsList, { maxInFlight: 2 * workers })) {
        sum += r.score;
        rows += r.rows;
        progress.tick(1, `block ${b++} rows ${r.rows} iterations ${r.iterations} CH ${r.score.toFixed(3)}`);
      }
      score = sum / input.blocks.length;
      result = { rows, blocks: input.blocks.length, calinski_harabasz: score };
    } else {
      const blocks = new PoolBlocks(pool, file, input.blocks);
      await blocks.loaded((i) => progress.tick(1, `loaded block ${i}`));
      const r = await globalLloyd(blocks, {
        k: args.k,
        seed: args.seed,
        maxIter: args.maxIter,
        tol: args.tol,
        onIteration: (it, shift, inertia) =>
          progress.note(`iteration ${it} shift ${shift.toExponential(3)} inertia ${inertia}`),
      });
      score = r.calinski_harabasz;
      result = {
        rows: r.rows,
        blocks: input.blocks.length,
        calinski_harabasz: score,
        centroids: r.centroids,
        inertia: r.inertia,
        iterations: r.iterations,
      };
    }
    const seconds = (performance.now() - t0) / 1000;
    await writeResult(args.out, {
      experiment: 'kmeans',
      style: 'pool',
      mode: args.mode,
      ranks: workers,
      seconds,
      ...result,
    });
    printPaperText(paperText(args, workers, score, seconds, 'pool'));
  } finally {
    await pool.close();
  }
}

runMain(main);
