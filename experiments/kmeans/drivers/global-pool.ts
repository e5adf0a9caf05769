/**
 * `--mode global` in the pool style: Lloyd's loop (global-lloyd.ts) runs on the driver, its phases as
 * pool tasks. Each block is loaded once by a task and stays in that worker's object store; every phase
 * is one small task per block, whose result (a few doubles) comes back to the driver, which sums them
 * in block order exactly as the SPMD ranks do.
 */
import type { ObjectRef, Pool } from '../../../src/pool/index.js';
import { type Block, type BlockFile, type BlockInput, blockFile } from '../setup/blocks.js';
import { type BlockPhases, type GlobalOptions, type GlobalResult, globalLloyd } from './global-lloyd.js';

const TASKS = new URL('./pool-tasks.ts', import.meta.url);
type T = typeof import('./pool-tasks.js');

class PoolBlocks implements BlockPhases {
  private refs: ObjectRef<Float64Array>[];
  private readonly stats_;
  private readonly sample_;
  private readonly centred_;
  private readonly variance_;
  private readonly step_;
  private readonly within_;

  /** Starts loading every block (one task each, the driver only hands out byte ranges). */
  constructor(
    private readonly pool: Pool,
    file: BlockFile,
    blocks: Block[],
  ) {
    const load = pool.remote<T['loadXY']>(TASKS, 'loadXY');
    this.stats_ = pool.remote<T['blockStats']>(TASKS, 'blockStats');
    this.sample_ = pool.remote<T['blockSample']>(TASKS, 'blockSample');
    this.centred_ = pool.remote<T['centredBlock']>(TASKS, 'centredBlock');
    this.variance_ = pool.remote<T['blockVariance']>(TASKS, 'blockVariance');
    this.step_ = pool.remote<T['blockStep']>(TASKS, 'blockStep');
    this.within_ = pool.remote<T['blockWithin']>(TASKS, 'blockWithin');
    this.refs = blocks.map((b) => load(file, b));
  }

  /** Waits for the blocks to load, calling `onLoaded(index)` as each one is ready (any order). */
  async loaded(onLoaded: (index: number) => void): Promise<void> {
    let pending = this.refs.slice();
    while (pending.length > 0) {
      const { ready, pending: rest } = await this.pool.wait(pending, { numReturns: 1 });
      for (const r of ready) onLoaded(this.refs.indexOf(r as ObjectRef<Float64Array>));
      pending = rest as ObjectRef<Float64Array>[];
    }
  }

  stats() {
    return this.pool.get(this.refs.map((r) => this.stats_(r)));
  }

  sample(mx: number, my: number, rate: number) {
    return this.pool.get(this.refs.map((r) => this.sample_(r, mx, my, rate)));
  }

  async centre(mx: number, my: number) {
    // The raw blocks are dropped here: the refs' finalizers free them in the workers' stores.
    this.refs = this.refs.map((r) => this.centred_(r, mx, my));
    return this.pool.get(this.refs.map((r) => this.variance_(r)));
  }

  step(centers: Float64Array) {
    // centers is serialized at submission, so the driver may update it while tasks run.
    return this.pool.get(this.refs.map((r) => this.step_(r, centers)));
  }

  within(centers: Float64Array, means: Float64Array) {
    return this.pool.get(this.refs.map((r) => this.within_(r, centers, means)));
  }
}

/** Loads every block of `input` into the workers' stores (`onLoaded(index)` as each is ready), then runs global k-means. */
export async function globalKmeansPool(
  pool: Pool,
  input: BlockInput,
  opts: GlobalOptions & { onLoaded?: (block: number) => void },
): Promise<GlobalResult> {
  const blocks = new PoolBlocks(pool, blockFile(input), input.blocks);
  await blocks.loaded((i) => opts.onLoaded?.(i));
  return globalLloyd(blocks, opts);
}
