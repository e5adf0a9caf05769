/**
 * `--mode paper` over ranks: blocks are runs of `blockEdges` consecutive edges of the file (the seed's
 * PyTorch batches), so they do not depend on the rank count. Each rank reads its byte range; block b
 * (edges [b·B, (b+1)·B) in file order) belongs to the rank holding its first edge, and the following
 * ranks send that rank the rest of the block (one all-to-all). Each rank sums its blocks' scores per
 * id, and rank 0 merges the ranks' sums and normalises them.
 */
import type { TypedArray } from '../../../src/wire/vocabulary.js';
import { ScoreSum } from '../kernels/score-sum.js';
import type { Ranked } from '../kernels/top-k.js';
import { torchPageRank } from '../kernels/torch-ppr.js';
import type { PagerankComm } from '../setup/comm.js';
import { concatEdges, type EdgeChunk } from '../setup/edges.js';
import { EmptyGraphError } from '../setup/errors.js';

export interface PaperComm extends PagerankComm {
  gather<T extends TypedArray>(x: T, root?: number): Promise<T[] | undefined>;
}

export interface PaperResult {
  edges: number;
  blocks: number;
  /** Most torch_ppr iterations any block needed. */
  maxIterations: number;
  /** Rank 0 only (others: 0 and []): number of distinct ids, the top list, the sum of scores. */
  nodes: number;
  top: Ranked[];
  sum: number;
}

/** Rows [lo, hi) of the file that rank q's blocks cover, given every rank's first row and count. */
function blockRows(
  starts: number[],
  counts: number[],
  q: number,
  total: number,
  b: number,
): [number, number] {
  if (counts[q] === 0) return [0, 0];
  const lo = Math.ceil(starts[q] / b) * b;
  const hi = Math.min(total, Math.ceil((starts[q] + counts[q]) / b) * b);
  return lo < hi ? [lo, hi] : [0, 0];
}

export async function paperPagerankSpmd(
  comm: PaperComm,
  chunks: AsyncIterable<EdgeChunk>,
  opts: { blockEdges: number; top: number; file?: string; onBlock?: (b: number, iterations: number) => void },
): Promise<PaperResult> {
  const parts: EdgeChunk[] = [];
  for await (const ch of chunks) parts.push({ src: ch.src.slice(), dst: ch.dst.slice() });
  const mine = concatEdges(parts);
  const m = mine.src.length;
  const countsArr = await comm.allGather(Float64Array.of(m));
  const counts = countsArr.map((c) => c[0]);
  const starts: number[] = [];
  let total = 0;
  for (const c of counts) {
    starts.push(total);
    total += c;
  }
  if (total === 0) throw new EmptyGraphError(opts.file ?? 'input');
  const B = opts.blockEdges;
  const me = comm.rank;
  const s = starts[me];
  const e = s + m;
  // Send each other rank the part of my rows that falls inside its blocks: [src..., dst...].
  const sends = counts.map((_, q) => {
    if (q === me) return new Float64Array(0);
    const [lo, hi] = blockRows(starts, counts, q, total, B);
    const a = Math.max(lo, s);
    const z = Math.min(hi, e);
    if (a >= z) return new Float64Array(0);
    const out = new Float64Array(2 * (z - a));
    out.set(mine.src.subarray(a - s, z - s), 0);
    out.set(mine.dst.subarray(a - s, z - s), z - a);
    return out;
  });
  const got = await comm.allToAll(sends);
  const [lo, hi] = blockRows(starts, counts, me, total, B);
  const own: EdgeChunk[] = [];
  if (lo < hi)
    own.push({
      src: mine.src.subarray(lo - s, Math.min(hi, e) - s),
      dst: mine.dst.subarray(lo - s, Math.min(hi, e) - s),
    });
  for (let q = me + 1; q < got.length; q++) {
    const g = got[q];
    const k = g.length / 2;
    if (k > 0) own.push({ src: g.subarray(0, k), dst: g.subarray(k) });
  }
  const rows = concatEdges(own.length > 0 ? own : [{ src: new Float64Array(0), dst: new Float64Array(0) }]);

  const sums = new ScoreSum(1 << 16);
  const blocks = Math.ceil(total / B);
  let maxIt = 0;
  for (let at = 0; at < rows.src.length; at += B) {
    const r = torchPageRank(rows.src.subarray(at, at + B), rows.dst.subarray(at, at + B));
    sums.add(r.ids, r.scores);
    if (r.iterations > maxIt) maxIt = r.iterations;
    opts.onBlock?.((lo + at) / B, r.iterations);
  }

  const maxIterations = (await comm.allReduce(Float64Array.of(maxIt), 'max'))[0];
  const { ids, scores } = sums.entries();
  const allIds = await comm.gather(ids, 0);
  const allScores = await comm.gather(scores, 0);
  if (allIds === undefined || allScores === undefined)
    return { edges: total, blocks, maxIterations, nodes: 0, top: [], sum: 0 };
  const merged = new ScoreSum(Math.max(16, ids.length));
  for (let r = 0; r < allIds.length; r++) merged.add(allIds[r], allScores[r]);
  return { edges: total, blocks, maxIterations, ...merged.normalisedTop(opts.top) };
}
