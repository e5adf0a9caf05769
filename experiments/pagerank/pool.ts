/**
 * PageRank, pool style (Ray-like): this process is the driver.
 *
 *   npx tsx experiments/pagerank/pool.ts --input edges.csv --workers 2            # embedded pool
 *   tsrun --pool --hostfile hosts experiments/pagerank/pool.ts --input edges.csv   # a cluster
 *
 * global: partitions loaded once into the workers' object stores, one product task per partition
 * and iteration, the driver combines (global-pool.ts). paper: one torch_ppr task per --block-mb
 * block of the file (the seed's Ray blocks), scores summed per id on the driver in block order.
 */
import { connect } from '../../src/pool/index.js';
import { Progress } from '../common/progress.js';
import { printPaperText, writeResult } from '../common/result.js';
import { runMain } from '../common/run-main.js';
import { edgeBlocks, openEdgeFile } from './edges.js';
import { EmptyGraphError } from './errors.js';
import { globalPagerankPool } from './global-pool.js';
import { type PagerankArgs, paperText, parsePagerankArgs } from './options.js';
import { ScoreSum } from './score-sum.js';
import { topK } from './top-k.js';

const TASKS = new URL('./pool-tasks.ts', import.meta.url);

async function main(): Promise<void> {
  const args: PagerankArgs = parsePagerankArgs('experiments/pagerank/pool.ts');
  const file = await openEdgeFile(args.input, args.skipBadLines);
  const pool = await connect(args.workers === undefined ? {} : { workers: args.workers });
  try {
    const workers = pool.workers ?? args.workers ?? 1;
    const t0 = performance.now();
    const progress = new Progress('[pagerank pool]', args.maxIter, 'iterations');
    let result: Record<string, unknown>;
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
      result = {
        nodes: r.nodes,
        edges: r.edges,
        iterations: r.iterations,
        converged: r.converged,
        sum: r.sum,
        top: r.top,
      };
    } else {
      type T = typeof import('./pool-tasks.js');
      const block = pool.remote<T['paperBlock']>(TASKS, 'paperBlock');
      const blocks = edgeBlocks(file, args.blockMb * 1048576);
      const sums = new ScoreSum(1 << 16);
      const blockProgress = new Progress('[pagerank pool]', blocks.length, 'blocks');
      let maxIt = 0;
      let edges = 0;
      // map() yields in input order, so the per-id sums are added in block order on every run.
      const argsList = blocks.map((b): [string, number, number, boolean] => [
        args.input,
        b.start,
        b.end,
        args.skipBadLines,
      ]);
      for await (const r of pool.map(block, argsList, { maxInFlight: 2 * workers })) {
        sums.add(r.ids, r.scores);
        if (r.iterations > maxIt) maxIt = r.iterations;
        edges += r.edges;
        blockProgress.tick(1, `${r.iterations} iterations`);
      }
      if (edges === 0) throw new EmptyGraphError(args.input);
      const { ids, scores } = sums.entries();
      let total = 0;
      for (let i = 0; i < scores.length; i++) total += scores[i];
      let sum = 0;
      for (let i = 0; i < scores.length; i++) {
        scores[i] /= total;
        sum += scores[i];
      }
      result = {
        nodes: ids.length,
        edges,
        blocks: blocks.length,
        block_mb: args.blockMb,
        iterations: maxIt,
        sum,
        top: topK(ids, scores, args.top),
      };
    }
    const seconds = (performance.now() - t0) / 1000;
    await writeResult(args.out, {
      experiment: 'pagerank',
      style: 'pool',
      mode: args.mode,
      ranks: workers,
      seconds,
      ...result,
    });
    printPaperText(paperText(args, workers, result.top as [number, number][], seconds, 'pool'));
  } finally {
    await pool.close();
  }
}

runMain(main);
