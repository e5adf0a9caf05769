/**
 * One rank of bench/collectives.ts: times all_reduce, broadcast and all_gather at each size the way
 * bench/peers/torch_gloo.py does (barrier before every iteration, median seconds; OPS=all_reduce,... picks
 * the operations), and rank 0 prints
 * one JSON line per measurement.
 */
import { init } from 'tsrun';

const sizes = (process.env.SIZES ?? '4,1024,65536,1048576,16777216,67108864').split(',').map(Number);
const mode = process.env.TSRUN_ENCRYPT === '1' ? 'curve' : 'plain';
const wanted = new Set((process.env.OPS ?? 'all_reduce,broadcast,all_gather').split(','));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

const pg = await init();
for (const nbytes of sizes) {
  const n = Math.max(1, nbytes >> 2);
  const iters = nbytes <= 65536 ? 200 : nbytes <= 1 << 20 ? 30 : 8;
  const x = new Float32Array(n).fill(1);
  // Like the peers (torch's all_gather(outs, x), MPI_Allgather), the output buffer is the caller's.
  const gathered = new Float32Array(n * pg.size);
  const ops: Array<[string, () => Promise<unknown>]> = [
    ['all_reduce', () => pg.allReduce(x)],
    ['broadcast', () => pg.broadcast(x, 0)],
    ['all_gather', () => pg.allGather(x, { out: gathered })],
  ];
  for (const [op, fn] of ops.filter(([name]) => wanted.has(name))) {
    await fn();
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
