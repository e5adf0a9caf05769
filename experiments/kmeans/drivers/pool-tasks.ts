/**
 * Remote functions of the pool drivers (paper-pool.ts, global-pool.ts), named by this module's URL +
 * export name, so every worker imports the same code. A loaded block is one Float64Array
 * [x0..xn-1, y0..yn-1]: a typed array travels and is stored as its raw bytes. Large blocks stay in the
 * loading worker's object store, and the pool's locality-aware scheduler runs each later phase of a
 * block on the worker that holds it. Tasks never modify their arguments (a worker caches decoded
 * arguments, and a stolen task gets its own copy), so a block's partial is the same wherever it runs.
 */
import { type BlockResult, clusterBlock } from '../kernels/block-kmeans.js';
import {
  centreBlock,
  Scratch,
  STATS_WIDTH,
  samplePartial,
  statsPartial,
  stepPartial,
  stepWidth,
  VARIANCE_WIDTH,
  variancePartial,
  WITHIN_WIDTH,
  withinPartial,
} from '../kernels/global-partials.js';
import { type Block, type BlockFile, loadBlock } from '../setup/blocks.js';

/** Labels/distances reused by every task of this worker (tasks of one worker run one at a time). */
const scratch = new Scratch();

function halves(xy: Float64Array): { x: Float64Array; y: Float64Array } {
  const n = xy.length >> 1;
  return { x: xy.subarray(0, n), y: xy.subarray(n) };
}

/** Paper mode: the seed's k-means + Calinski–Harabasz on one block the task reads itself. */
export async function paperBlock(
  file: BlockFile,
  block: Block,
  k: number,
  seed: number,
  maxIter: number,
  tol: number,
): Promise<BlockResult> {
  const { x, y } = await loadBlock(file, block);
  return clusterBlock(x, y, k, seed, maxIter, tol);
}

/** Global mode: reads one block as [x..., y...]. */
export async function loadXY(file: BlockFile, block: Block): Promise<Float64Array> {
  const { x, y } = await loadBlock(file, block);
  const xy = new Float64Array(2 * x.length);
  xy.set(x, 0);
  xy.set(y, x.length);
  return xy;
}

export function blockStats(xy: Float64Array): Float64Array {
  const { x, y } = halves(xy);
  const out = new Float64Array(STATS_WIDTH);
  statsPartial(x, y, out, 0);
  return out;
}

export function blockSample(xy: Float64Array, mx: number, my: number, rate: number): Float64Array {
  const { x, y } = halves(xy);
  return samplePartial(x, y, mx, my, rate);
}

/** A centred copy of the block (the raw one is dropped by the driver afterwards). */
export function centredBlock(xy: Float64Array, mx: number, my: number): Float64Array {
  const c = Float64Array.from(xy);
  const { x, y } = halves(c);
  centreBlock(x, y, mx, my);
  return c;
}

export function blockVariance(xy: Float64Array): Float64Array {
  const { x, y } = halves(xy);
  const out = new Float64Array(VARIANCE_WIDTH);
  variancePartial(x, y, out, 0);
  return out;
}

export function blockStep(xy: Float64Array, centers: Float64Array): Float64Array {
  const { x, y } = halves(xy);
  const { labels, dist } = scratch.fit(x.length);
  const out = new Float64Array(stepWidth(centers.length >> 1));
  stepPartial(x, y, centers, labels, dist, out, 0);
  return out;
}

export function blockWithin(xy: Float64Array, centers: Float64Array, means: Float64Array): Float64Array {
  const { x, y } = halves(xy);
  const { labels, dist } = scratch.fit(x.length);
  const out = new Float64Array(WITHIN_WIDTH);
  withinPartial(x, y, centers, means, labels, dist, out, 0);
  return out;
}
