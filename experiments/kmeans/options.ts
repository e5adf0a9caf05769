/** Flags of both k-means scripts (docs/ARCHITECTURE.md "Experiments"), defined once with their help text. */
import { experimentCli, requirePositive, UsageError } from '../common/flags.js';
import type { GlobalResult } from './drivers/global-lloyd.js';

export interface KmeansArgs {
  input: string;
  out: string | undefined;
  workers: number | undefined;
  k: number;
  mode: 'paper' | 'global';
  blockMb: number;
  seed: number;
  maxIter: number;
  tol: number;
  skipBadLines: boolean;
}

export function parseKmeansArgs(script: string, argv?: string[]): KmeansArgs {
  const a = experimentCli(script, argv)
    .option('k', { type: 'number', default: 16, describe: 'number of clusters' })
    .option('mode', {
      choices: ['paper', 'global'] as const,
      default: 'paper' as const,
      describe: "paper: the seed's per-block k-means, mean CH score; global: one k-means over all rows",
    })
    .option('block-mb', {
      type: 'number',
      default: 20,
      describe: 'block size in MiB of CSV (paper mode unit)',
    })
    .option('seed', { type: 'number', default: 42, describe: 'k-means++ seed (numpy RandomState stream)' })
    .option('max-iter', { type: 'number', default: 300, describe: "Lloyd's iteration cap" })
    .option('tol', { type: 'number', default: 1e-4, describe: 'relative tolerance, as scikit-learn' })
    .option('skip-bad-lines', {
      type: 'boolean',
      default: false,
      describe: 'count and skip malformed CSV lines',
    })
    .parseSync();
  if (!Number.isInteger(a.k) || a.k < 2) throw new UsageError(`--k must be an integer >= 2, got ${a.k}`);
  requirePositive('block-mb', a['block-mb']);
  requirePositive('max-iter', a['max-iter']);
  requirePositive('tol', a.tol, true);
  return {
    input: a.input,
    out: a.out,
    workers: a.workers,
    k: a.k,
    mode: a.mode,
    blockMb: a['block-mb'],
    seed: a.seed,
    maxIter: a['max-iter'],
    tol: a.tol,
    skipBadLines: a['skip-bad-lines'],
  };
}

/** The JSON fields of a global-mode run over `blocks` blocks. */
export function globalFields(r: GlobalResult, blocks: number) {
  return {
    rows: r.rows,
    blocks,
    calinski_harabasz: r.calinski_harabasz,
    centroids: r.centroids,
    inertia: r.inertia,
    iterations: r.iterations,
  };
}

/** The paper's text result block. */
export function paperText(
  args: KmeansArgs,
  ranks: number,
  score: number,
  seconds: number,
  style: string,
): string[] {
  return [
    `For file ${args.input} - number of worker machines ${ranks} - batch size ${args.blockMb} MiB:`,
    `Calinski-Harabasz Score: ${score}`,
    `Time taken (tsrun-${style}): ${seconds.toFixed(3)} seconds`,
  ];
}
