/**
 * `--mode paper` in the pool style: one task per block (the driver hands out byte ranges, each task
 * reads its own), at most 2 × workers in flight; scores arrive in block order and are averaged in that
 * order, as the SPMD ranks do.
 */
import type { Pool } from '../../../src/pool/index.js';
import { type BlockInput, blockFile } from '../setup/blocks.js';
import type { PaperOptions, PaperResult } from './paper-spmd.js';

const TASKS = new URL('./pool-tasks.ts', import.meta.url);

export async function paperKmeansPool(
  pool: Pool,
  input: BlockInput,
  workers: number,
  opts: PaperOptions,
): Promise<PaperResult> {
  type T = typeof import('./pool-tasks.js');
  const block = pool.remote<T['paperBlock']>(TASKS, 'paperBlock');
  const file = blockFile(input);
  const argsList = input.blocks.map(
    (b) => [file, b, opts.k, opts.seed, opts.maxIter, opts.tol] as Parameters<T['paperBlock']>,
  );
  let sum = 0;
  let rows = 0;
  let b = 0;
  for await (const r of pool.map(block, argsList, { maxInFlight: 2 * workers })) {
    sum += r.score;
    rows += r.rows;
    opts.onBlock?.(b++, r);
  }
  return { rows, blocks: input.blocks.length, calinski_harabasz: sum / input.blocks.length };
}
