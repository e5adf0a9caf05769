/**
 * PageRank, SPMD style: run under the launcher, one process per rank.
 *
 *   tsrun --standalone --nproc-per-node 2 experiments/pagerank/spmd.ts --input edges.csv --mode global
 *
 * global: each rank reads its byte range of the edges, node ids are mapped to dense indices across
 * ranks, each rank owns a range of rows, and every iteration ends with one all-gather of the owners'
 * slices (drivers/global-spmd.ts).
 * paper: the seed's per-block torch_ppr method over fixed blocks of --block-edges edges
 * (drivers/paper-spmd.ts); rank 0 merges and prints. Progress goes to stderr, the paper's text to stdout.
 */
import { initGroup } from '../common/process-group.js';
import { Progress } from '../common/progress.js';
import { finishRun } from '../common/result.js';
import { runMain } from '../common/run-main.js';
import { globalPagerank } from './drivers/global-spmd.js';
import { paperPagerankSpmd } from './drivers/paper-spmd.js';
import type { Ranked } from './kernels/top-k.js';
import { type PagerankArgs, paperFields, paperText, parsePagerankArgs } from './options.js';
import { openEdgeFile, readEdgeShare } from './setup/edges.js';

async function main(): Promise<void> {
  const args: PagerankArgs = parsePagerankArgs('experiments/pagerank/spmd.ts');
  const pg = await initGroup();
  const t0 = performance.now();
  const file = await openEdgeFile(args.input, args.skipBadLines);
  const chunks = readEdgeShare(file, pg.rank, pg.size);
  const progress = new Progress(`[pagerank rank ${pg.rank}]`, args.maxIter, 'iterations');
  let result: { top: Ranked[] };
  if (args.mode === 'global') {
    const r = await globalPagerank(pg, chunks, {
      damping: args.damping,
      tol: args.tol,
      maxIter: args.maxIter,
      top: args.top,
      file: args.input,
      onPhase: (name, sec) => {
        if (pg.rank === 0) progress.note(`${name} ${sec.toFixed(3)}s`);
      },
      onIteration: (it, l1, sec, compute) => {
        if (pg.rank === 0) {
          progress.note(
            `iteration ${it} L1 change ${l1.toExponential(3)} ${sec.toFixed(3)}s (own rows ${compute?.toFixed(3)}s)`,
          );
        }
      },
    });
    // Every rank: memory is a per-rank target (issue 6), and ranks differ (hubs sit on rank 0).
    progress.note(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
    if (pg.rank === 0 && !r.converged) {
      progress.note(
        `not converged after ${r.iterations} iterations (--max-iter); reporting the last iterate`,
      );
    }
    result = r;
  } else {
    const r = await paperPagerankSpmd(pg, chunks, {
      blockEdges: args.blockEdges,
      top: args.top,
      file: args.input,
      onBlock: (b, it) => progress.note(`block ${b} ${it} iterations`),
    });
    result = paperFields(r, { block_edges: args.blockEdges });
  }
  const seconds = (performance.now() - t0) / 1000;
  if (pg.rank === 0) {
    await finishRun(
      args.out,
      { experiment: 'pagerank', style: 'spmd', mode: args.mode, ranks: pg.size },
      { seconds, ...result },
      paperText(args, pg.size, result.top, seconds, 'spmd'),
    );
  }
  await pg.destroy();
}

runMain(main);
