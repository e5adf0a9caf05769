/**
 * One rank of bench/collectives.ts: times all_reduce, broadcast and all_gather (and reduce_scatter when
 * OPS names it) at each size the way
 * bench/peers/torch_gloo.py does (barrier before every iteration, median seconds; OPS=all_reduce,... picks
 * the operations), and rank 0 prints
 * one JSON line per measurement.
 */
import { init } from 'tsrun';

const sizes = (process.env.SIZES ?? '4,1024,65536,1048576,16777216,67108864').split(',').map(Number);
const mode = process.env.TSRUN_ENCRYPT === '1' ? 'curve' : 'plain';
const wanted = new Set((process.env.OPS ?? 'all_reduce,broadcast,all_gather').split(','));

/**
 * Untimed calls before each measurement, the same in every peer (bench/peers/torch_gloo.py, mpi4py_bench.py):
 * 1,000 up to 64 KiB, 1 above. Steady state is what a training loop sees; a JS process gets there only after
 * V8's JIT has tiered up its hot paths: 2 ranks' 4-byte all-reduce took 0.15-0.3 ms over the first ~1,000
 * calls (~0.7 s) and 0.06-0.09 ms after.
 */
const warmup = (nbytes: number) => (nbytes <= 65536 ? 1000 : 1);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

const pg = await init();
// Process-wide warm-up, the same in every peer: the timed loop's calls at 4 B, untimed.
{
  const w = new Float32Array(1);
  const wo = new Float32Array(pg.size);
  for (let i = 0; i < 1000; i++) {
    await pg.barrier();
    await pg.allReduce(w);
    await pg.broadcast(w, 0);
    await pg.allGather(w, { out: wo });
  }
}
for (const nbytes of sizes) {
  const n = Math.max(1, nbytes >> 2);
  const iters = nbytes <= 65536 ? 200 : nbytes <= 1 << 20 ? 30 : 8;
  const x = new Float32Array(n).fill(1);
  // Like the peers (torch's all_gather(outs, x), MPI_Allgather), the output buffer is the caller's.
  const gathered = new Float32Array(n * pg.size);
  const block = new Float32Array(
    Math.floor((n * (pg.rank + 1)) / pg.size) - Math.floor((n * pg.rank) / pg.size),
  );
  const ops: Array<[string, () => Promise<unknown>]> = [
    ['all_reduce', () => pg.allReduce(x)],
    ['broadcast', () => pg.broadcast(x, 0)],
    ['all_gather', () => pg.allGather(x, { out: gathered })],
    // Not in the default set: gloo has no reduce-scatter. OPS=reduce_scatter times it alone (the output
    // buffer is the caller's, as in MPI_Reduce_scatter_block).
    ['reduce_scatter', () => pg.reduceScatter(x, 'sum', { out: block })],
  ];
  for (const [op, fn] of ops.filter(([name]) => wanted.has(name))) {
    for (let i = 0; i < warmup(nbytes); i++) await fn();
    const ts: number[] = [];
    for (let i = 0; i < iters; i++) {
      await pg.barrier();
      const t0 = process.hrtime.bigint();
      await fn();
      ts.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    if (pg.rank === 0) {
      console.log(JSON.stringify({ peer: 'tsrun', op, world: pg.size, bytes: n * 4, sec: median(ts), mode }));
    }
  }
}
await pg.destroy();
