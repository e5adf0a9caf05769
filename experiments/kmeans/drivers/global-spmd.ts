/**
 * `--mode global` over ranks: each rank loads its share of the blocks once and runs the Lloyd's loop of
 * global-lloyd.ts, its phases computed on the rank's blocks and exchanged by one all-gather each (in
 * rank order = file order, since shares are contiguous).
 */
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
import { type BlockInput, loadBlock } from '../setup/blocks.js';
import { type BlockPhases, type GlobalOptions, type GlobalResult, globalLloyd } from './global-lloyd.js';

export type Gather = (local: Float64Array) => Promise<Float64Array[]>;

/**
 * Blocks held in this process (a rank's share, in file order); `gather` exchanges the partials with
 * the other participants (all-gather in rank order = file order, since shares are contiguous).
 */
class GatheredBlocks implements BlockPhases {
  private readonly scratch = new Scratch();

  constructor(
    private readonly xs: Float64Array[],
    private readonly ys: Float64Array[],
    private readonly gather: Gather,
  ) {
    let most = 0;
    for (const x of xs) if (x.length > most) most = x.length;
    this.scratch.fit(most);
  }

  private each(
    width: number,
    fill: (x: Float64Array, y: Float64Array, out: Float64Array, o: number) => void,
  ) {
    const out = new Float64Array(this.xs.length * width);
    for (let b = 0; b < this.xs.length; b++) fill(this.xs[b], this.ys[b], out, b * width);
    return this.gather(out);
  }

  stats() {
    return this.each(STATS_WIDTH, statsPartial);
  }

  sample(mx: number, my: number, rate: number) {
    const parts = this.xs.map((x, b) => samplePartial(x, this.ys[b], mx, my, rate));
    const len = parts.reduce((a, p) => a + p.length, 0);
    const mine = new Float64Array(len);
    let at = 0;
    for (const p of parts) {
      mine.set(p, at);
      at += p.length;
    }
    return this.gather(mine);
  }

  centre(mx: number, my: number) {
    for (let b = 0; b < this.xs.length; b++) centreBlock(this.xs[b], this.ys[b], mx, my);
    return this.each(VARIANCE_WIDTH, variancePartial);
  }

  step(centers: Float64Array) {
    const { labels, dist } = this.scratch;
    return this.each(stepWidth(centers.length >> 1), (x, y, out, o) =>
      stepPartial(x, y, centers, labels, dist, out, o),
    );
  }

  within(centers: Float64Array, means: Float64Array) {
    const { labels, dist } = this.scratch;
    return this.each(WITHIN_WIDTH, (x, y, out, o) =>
      withinPartial(x, y, centers, means, labels, dist, out, o),
    );
  }
}

/** Runs global k-means over this participant's blocks (x/y are centred in place). */
export function globalKmeans(
  xs: Float64Array[],
  ys: Float64Array[],
  gather: Gather,
  opts: GlobalOptions,
): Promise<GlobalResult> {
  return globalLloyd(new GatheredBlocks(xs, ys, gather), opts);
}

/** Loads blocks [lo, hi) of `input` (this rank's share) and runs global k-means over them with the other ranks. */
export async function globalKmeansSpmd(
  gather: Gather,
  input: BlockInput,
  share: { lo: number; hi: number },
  opts: GlobalOptions & { onLoaded?: (block: number, rows: number) => void },
): Promise<GlobalResult> {
  const xs: Float64Array[] = [];
  const ys: Float64Array[] = [];
  for (let b = share.lo; b < share.hi; b++) {
    const { x, y } = await loadBlock(input, input.blocks[b]);
    xs.push(x);
    ys.push(y);
    opts.onLoaded?.(b, x.length);
  }
  return globalKmeans(xs, ys, gather, opts);
}
