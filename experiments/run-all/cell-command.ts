import { join } from 'node:path';
import type { Cell } from './grid.js';
import { writeHostfileSubset } from './hostfile-subset.js';
import { nodeLauncher, nodeTs } from './node-command.js';
import type { RunOptions } from './options.js';

/** The experiment's own flags, as the docs/ARCHITECTURE.md "Experiments" contract names them. */
export function experimentArgs(cell: Cell, opts: RunOptions, input: string, out: string): string[] {
  const common = ['--input', input, '--out', out];
  switch (cell.experiment) {
    case 'kmeans':
      return [...common, '--k', String(opts.k), '--mode', cell.mode ?? 'paper'];
    case 'pagerank':
      return [...common, '--mode', cell.mode ?? 'global'];
    case 'pneumonia':
      return [
        ...common,
        ...['--epochs', String(opts.epochs), '--batch', String(opts.batch), '--lr', String(opts.lr)],
        ...['--image-size', String(opts.imageSize)],
      ];
  }
}

/**
 * The command of one cell. SPMD runs under the launcher (`--standalone --nproc-per-node N`, or the
 * first N hosts of `--hostfile`); the pool style runs its driver with the embedded pool (`--workers N`)
 * locally, or as a `tsrun --pool` job on the cluster.
 */
export async function cellCommand(
  cell: Cell,
  opts: RunOptions,
  input: string,
  out: string,
): Promise<{ cmd: string; args: string[] }> {
  const script = join(opts.experimentsDir, cell.experiment, `${cell.style}.ts`);
  const args = experimentArgs(cell, opts, input, out);
  if (opts.hostfile !== undefined) {
    const hostfile = await writeHostfileSubset(
      opts.hostfile,
      cell.nodes,
      cell.style,
      join(opts.resultsDir, 'hostfiles'),
    );
    const launch = cell.style === 'pool' ? ['--pool', '--hostfile', hostfile] : ['--hostfile', hostfile];
    return nodeLauncher(opts.launcher, [...launch, script, ...args]);
  }
  if (cell.style === 'spmd') {
    return nodeLauncher(opts.launcher, [
      '--standalone',
      '--nproc-per-node',
      String(cell.nodes),
      script,
      ...args,
    ]);
  }
  return nodeTs(script, [...args, '--workers', String(cell.nodes)]);
}
