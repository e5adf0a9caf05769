/** Flags of both PageRank scripts (docs/ARCHITECTURE.md "Experiments"), defined once with their help text. */
import { experimentCli, requirePositive, UsageError } from '../common/flags.js';
import type { PaperResult } from './drivers/paper-spmd.js';
import type { Ranked } from './kernels/top-k.js';

export interface PagerankArgs {
  input: string;
  out: string | undefined;
  workers: number | undefined;
  mode: 'global' | 'paper';
  damping: number;
  tol: number;
  maxIter: number;
  top: number;
  blockEdges: number;
  blockMb: number;
  skipBadLines: boolean;
}

export function parsePagerankArgs(script: string, argv?: string[]): PagerankArgs {
  const a = experimentCli(script, argv)
    .option('mode', {
      choices: ['global', 'paper'] as const,
      default: 'global' as const,
      describe: "global: true PageRank of the whole graph; paper: the seed's per-block torch_ppr method",
    })
    .option('damping', { type: 'number', default: 0.85, describe: 'global mode: damping factor' })
    .option('tol', { type: 'number', default: 1e-9, describe: 'global mode: stop when the L1 change < tol' })
    .option('max-iter', { type: 'number', default: 200, describe: 'global mode: iteration cap' })
    .option('top', { type: 'number', default: 10, describe: 'number of top nodes to report' })
    .option('block-edges', {
      type: 'number',
      default: 1048576,
      describe: "paper mode, spmd.ts: edges per block (the seed's PyTorch batch)",
    })
    .option('block-mb', {
      type: 'number',
      default: 10,
      describe: "paper mode, pool.ts: block size in MiB of CSV (the seed's Ray blocks)",
    })
    .option('skip-bad-lines', {
      type: 'boolean',
      default: false,
      describe: 'count and skip malformed CSV lines instead of failing',
    })
    .parseSync();
  if (!(a.damping > 0 && a.damping < 1))
    throw new UsageError(`--damping must be in (0, 1), got ${a.damping}`);
  requirePositive('tol', a.tol);
  const ints: [string, number][] = [
    ['max-iter', a['max-iter']],
    ['top', a.top],
    ['block-edges', a['block-edges']],
  ];
  for (const [flag, v] of ints) {
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${flag} must be a positive integer, got ${v}`);
  }
  requirePositive('block-mb', a['block-mb']);
  return {
    input: a.input,
    out: a.out,
    workers: a.workers,
    mode: a.mode,
    damping: a.damping,
    tol: a.tol,
    maxIter: a['max-iter'],
    top: a.top,
    blockEdges: a['block-edges'],
    blockMb: a['block-mb'],
    skipBadLines: a['skip-bad-lines'],
  };
}

/** The JSON fields of a paper-mode run; `blockSize` is the block size as the style's flag gives it. */
export function paperFields(r: PaperResult, blockSize: { block_edges: number } | { block_mb: number }) {
  return {
    nodes: r.nodes,
    edges: r.edges,
    blocks: r.blocks,
    ...blockSize,
    iterations: r.maxIterations,
    sum: r.sum,
    top: r.top,
  };
}

/** The paper's text result block. */
export function paperText(
  args: PagerankArgs,
  ranks: number,
  top: Ranked[],
  seconds: number,
  style: string,
): string[] {
  const batch =
    args.mode === 'global'
      ? 'whole graph'
      : style === 'spmd'
        ? `batch size ${args.blockEdges} edges`
        : `batch size ${args.blockMb} MiB`;
  return [
    `For file ${args.input} - number of worker machines ${ranks} - ${batch} (mode ${args.mode}):`,
    `Top ${top.length} nodes by PageRank:`,
    ...top.map(([id, s], i) => `${i + 1}. Node ${id}: ${s}`),
    `Time taken (tsrun-${style}): ${seconds.toFixed(3)} seconds`,
  ];
}
