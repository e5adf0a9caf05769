/**
 * k-means, SPMD style: run under the launcher, one process per rank.
 *
 *   tsrun --standalone --nproc-per-node 2 experiments/kmeans/spmd.ts --input edges.csv --k 16 --mode paper
 *
 * paper: rank r clusters whole blocks r·B/n .. (r+1)·B/n of the file's fixed blocks (so a block's
 * score does not depend on the rank count), scores are all-gathered and averaged in block order
 * (drivers/paper-spmd.ts). global: each rank loads its blocks once and runs the distributed Lloyd's of
 * drivers/global-spmd.ts.
 */
import { shareOfCount } from '../../src/data/index.js';
import { initGroup } from '../common/process-group.js';
import { Progress } from '../common/progress.js';
import { finishRun } from '../common/result.js';
import { runMain } from '../common/run-main.js';
import { globalKmeansSpmd } from './drivers/global-spmd.js';
import { paperKmeansSpmd } from './drivers/paper-spmd.js';
import { globalFields, type KmeansArgs, paperText, parseKmeansArgs } from './options.js';
import { listBlocks } from './setup/blocks.js';

async function main(): Promise<void> {
  const args: KmeansArgs = parseKmeansArgs('experiments/kmeans/spmd.ts');
  const pg = await initGroup();
  const t0 = performance.now();
  const input = await listBlocks(args.input, args.blockMb * 1048576, args.skipBadLines);
  const share = shareOfCount(input.blocks.length, pg.rank, pg.size);
  const progress = new Progress(`[kmeans rank ${pg.rank}]`, share.hi - share.lo, 'blocks');
  const gather = (a: Float64Array) => pg.allGather(a);
  let result: { calinski_harabasz: number };
  if (args.mode === 'paper') {
    result = await paperKmeansSpmd(gather, input, share, {
      ...args,
      onBlock: (b, r) =>
        progress.tick(1, `block ${b} rows ${r.rows} iterations ${r.iterations} CH ${r.score.toFixed(3)}`),
    });
  } else {
    const r = await globalKmeansSpmd(gather, input, share, {
      ...args,
      onLoaded: (b, rows) => progress.tick(1, `loaded block ${b} (${rows} rows)`),
      onIteration: (it, shift, inertia) => {
        if (pg.rank === 0)
          progress.note(`iteration ${it} shift ${shift.toExponential(3)} inertia ${inertia}`);
      },
    });
    result = globalFields(r, input.blocks.length);
  }
  const seconds = (performance.now() - t0) / 1000;
  // Peak resident memory of every rank (getrusage's maxrss, KiB on Linux): the 1 GB run's budget.
  const rssKib = await pg.allGatherObject(process.resourceUsage().maxRSS);
  if (pg.rank === 0) {
    await finishRun(
      args.out,
      { experiment: 'kmeans', style: 'spmd', mode: args.mode, ranks: pg.size },
      { seconds, ...result, peak_rss_mb: rssKib.map((k) => Math.round(k / 1024)) },
      paperText(args, pg.size, result.calinski_harabasz, seconds, 'spmd'),
    );
  }
  await pg.destroy();
}

runMain(main);
