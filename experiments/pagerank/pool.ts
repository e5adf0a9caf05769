/**
 * PageRank, pool style (Ray-like): this process is the driver.
 *
 *   npx tsx experiments/pagerank/pool.ts --input edges.csv --workers 2            # embedded pool
 *   tsrun --pool --hostfile hosts experiments/pagerank/pool.ts --input edges.csv   # a cluster
 *
 * global: partitions loaded once into the workers' object stores, one product task per partition
 * and iteration, the driver combines (drivers/global-pool.ts). paper: one torch_ppr task per
 * --block-mb block of the file (the seed's Ray blocks), scores summed per id on the driver in block
 * order (drivers/paper-pool.ts).
 */
import { connect } from '../../src/pool/index.js';
import { Progress } from '../common/progress.js';
import { finishRun } from '../common/result.js';
import { runMain } from '../common/run-main.js';
import { globalPagerankPool } from './drivers/global-pool.js';
import { paperPagerankPool } from './drivers/paper-pool.js';
import type { Ranked } from './kernels/top-k.js';
import { type PagerankArgs, paperFields, paperText, parsePagerankArgs } from './options.js';
import { openEdgeFile } from './setup/edges.js';

async function main(): Promise<void> {
  const args: PagerankArgs = parsePagerankArgs('experiments/pagerank/pool.ts');
  const file = await openEdgeFile(args.input, args.skipBadLines);
  const pool = await connect(args.workers === undefined ? {} : { workers: args.workers });
  try {
    const workers = pool.workers ?? args.workers ?? 1;
    const t0 = performance.now();
    const progress = new Progress('[pagerank pool]', args.maxIter, 'iterations');
    let result: { top: Ranked[] };
    if (args.mode === 'global') {
      const r = await globalPagerankPool(pool, file, workers, {
        damping: args.damping,
        tol: args.tol,
        maxIter: args.maxIter,
        top: args.top,
        file: args.input,
        skipBadLines: args.skipBadLines,
        onPhase: (name, sec) => progress.note(`${name} ${sec.toFixed(3)}s`),
        onIteration: (it, l1, sec) =>
          progress.note(`iteration ${it} L1 change ${l1.toExponential(3)} ${sec.toFixed(3)}s`),
      });
      if (!r.converged) progress.note(`not converged after ${r.iterations} iterations (--max-iter)`);
      result = r;
    } else {
      let blockProgress: Progress | undefined;
      const r = await paperPagerankPool(pool, file, workers, {
        blockBytes: args.blockMb * 1048576,
        top: args.top,
        file: args.input,
        skipBadLines: args.skipBadLines,
        onBlocks: (n) => {
          blockProgress = new Progress('[pagerank pool]', n, 'blocks');
        },
        onBlock: (it) => blockProgress?.tick(1, `${it} iterations`),
      });
      result = paperFields(r, { block_mb: args.blockMb });
    }
    const seconds = (performance.now() - t0) / 1000;
    await finishRun(
      args.out,
      { experiment: 'pagerank', style: 'pool', mode: args.mode, ranks: workers },
      { seconds, ...result },
      paperText(args, workers, result.top, seconds, 'pool'),
    );
  } finally {
    await pool.close();
  }
}

runMain(main);
