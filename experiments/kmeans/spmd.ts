/**
 * k-means, SPMD style: run under the launcher, one process per rank.
 *
 *   tsrun --standalone --nproc-per-node 2 experiments/kmeans/spmd.ts --input edges.csv --k 16 --mode paper
 *
 * paper: rank r clusters whole blocks r·B/n .. (r+1)·B/n of the file's fixed blocks (so a block's
 * score does not depend on the rank count), scores are all-gathered and averaged in block order.
 * global: each rank loads its blocks once and runs the distributed Lloyd's of global-kmeans.ts.
 */
import { shareOfCount } from '../../src/data/index.js';
import { initGroup } from '../common/process-group.js';
import { Progress } from '../common/progress.js';
import { printPaperText, writeResult } from '../common/result.js';
import { runMain } from '../common/run-main.js';
import { clusterBlock } from './block-kmeans.js';
import { listBlocks, loadBlock } from './blocks.js';
import { globalKmeans } from './global-kmeans.js';
import { type KmeansArgs, paperText, parseKmeansArgs } from './options.js';

async function main(): Promise<void> {
  const args: KmeansArgs = parseKmeansArgs('experiments/kmeans/spmd.ts');
  const pg = await initGroup();
  const t0 = performance.now();
  const input = await listBlocks(args.input, args.blockMb * 1048576, args.skipBadLines);
  const { lo, hi } = shareOfCount(input.blocks.length, pg.rank, pg.size);
  const progress = new Progress(`[kmeans rank ${pg.rank}]`, hi - lo, 'blocks');
  let result: Record<string, unknown>;
  let score: number;
  if (args.mode === 'paper') {
    // Per block: [score, rows, iterations]; gathered in rank order = block order.
    const mine = new Float64Array(3 * (hi - lo));
    for (let b = lo; b < hi; b++) {
      const { x, y } = await loadBlock(input, input.blocks[b]);
      const r = clusterBlock(x, y, args.k, args.seed, args.maxIter, args.tol);
      mine.set([r.score, r.rows, r.iterations], 3 * (b - lo));
      progress.tick(1, `block ${b} rows ${r.rows} iterations ${r.iterations} CH ${r.score.toFixed(3)}`);
    }
    const all = await pg.allGather(mine);
    let sum = 0;
    let rows = 0;
    let blocks = 0;
    for (const part of all) {
      for (let o = 0; o < part.length; o += 3) {
        sum += part[o];
        rows += part[o + 1];
        blocks++;
      }
    }
    score = sum / blocks;
    result = { rows, blocks, calinski_harabasz: score };
  } else {
    const xs: Float64Array[] = [];
    const ys: Float64Array[] = [];
    for (let b = lo; b < hi; b++) {
      const { x, y } = await loadBlock(input, input.blocks[b]);
      xs.push(x);
      ys.push(y);
      progress.tick(1, `loaded block ${b} (${x.length} rows)`);
    }
    const r = await globalKmeans(xs, ys, (a) => pg.allGather(a), {
      k: args.k,
      seed: args.seed,
      maxIter: args.maxIter,
      tol: args.tol,
      onIteration: (it, shift, inertia) => {
        if (pg.rank === 0)
          progress.note(`iteration ${it} shift ${shift.toExponential(3)} inertia ${inertia}`);
      },
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
  // Peak resident memory of every rank (getrusage's maxrss, KiB on Linux): the 1 GB run's budget.
  const rssKib = await pg.allGatherObject(process.resourceUsage().maxRSS);
  if (pg.rank === 0) {
    await writeResult(args.out, {
      experiment: 'kmeans',
      style: 'spmd',
      mode: args.mode,
      ranks: pg.size,
      seconds,
      ...result,
      peak_rss_mb: rssKib.map((k) => Math.round(k / 1024)),
    });
    printPaperText(paperText(args, pg.size, score, seconds, 'spmd'));
  }
  await pg.destroy();
}

runMain(main);
