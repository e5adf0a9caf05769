/**
 * Pneumonia X-ray CNN, SPMD style: one process per rank under tsrun, gradients averaged with the
 * collectives after every backward pass.
 *
 *   npx tsx experiments/datagen/xray.ts --out data/xray
 *   node bin/tsrun.js --standalone --nproc-per-node 2 experiments/pneumonia/spmd.ts --input data/xray
 *   npx tsx experiments/pneumonia/spmd.ts --input data/xray --image-size 64 --epochs 2   # one rank, no tsrun
 *
 * Without tsrun's variables (WORLD_SIZE unset) it trains as a single rank.
 */
import { runMain } from '../common/run-main.js';
import { soloGroup, type TrainGroup } from './group.js';
import { parsePneumoniaFlags } from './options.js';
import { runPneumonia } from './run.js';

interface ProcessGroup extends TrainGroup {
  destroy(): Promise<void>;
}

async function joinGroup(): Promise<ProcessGroup | undefined> {
  if (process.env.WORLD_SIZE === undefined && process.env.OMPI_COMM_WORLD_SIZE === undefined)
    return undefined;
  // Loaded by name at run time: the package's own `init` (docs/ARCHITECTURE.md Public API) is being written in
  // parallel, and a static import of a missing module would fail type-checking for the whole tree.
  // The collectives' idle watcher takes the awaits on image decoding (libuv work it cannot see) for
  // "program finished" and destroys the group mid-epoch; this script destroys its group itself.
  process.env.TSRUN_AUTO_DESTROY ??= '0';
  const name = 'tsrun';
  const mod = (await import(name)) as { init(opts?: { timeoutMs?: number }): Promise<ProcessGroup> };
  return mod.init();
}

async function main(): Promise<void> {
  const flags = parsePneumoniaFlags('pneumonia/spmd');
  const pg = await joinGroup();
  // No destroy() after a failure: its closing barrier would fail against the other ranks and its error
  // would hide the root cause; exiting non-zero lets the launcher stop the job.
  await runPneumonia(flags, pg ?? soloGroup);
  await pg?.destroy();
}

if (import.meta.url === `file://${process.argv[1]}`) runMain(main);
