/**
 * One rank of the memory check (run with `npx tsrun --standalone --nproc-per-node 2 bench/collectives-rss.ts`):
 * CALLS (default 1000) all-reduces, broadcasts, all-gathers (into one output buffer) and reduce-scatters (into
 * one block) of BYTES (default 16 MiB), printing rank 0's RSS every 100 calls as JSON lines. Bounded memory
 * means the line stays flat.
 */
import { init } from 'tsrun';

const calls = Number(process.env.CALLS ?? 1000);
const bytes = Number(process.env.BYTES ?? 16 << 20);
const pg = await init();
const x = new Float32Array(bytes / 4).fill(1);
const out = new Float32Array((bytes / 4) * pg.size);
const n = bytes / 4;
const block = new Float32Array(
  Math.floor((n * (pg.rank + 1)) / pg.size) - Math.floor((n * pg.rank) / pg.size),
);
const mib = (b: number) => Math.round(b / 2 ** 20);
for (let i = 1; i <= calls; i++) {
  if (i % 4 === 0) await pg.allGather(x, { out });
  else if (i % 4 === 1) await pg.allReduce(x, 'max');
  else if (i % 4 === 2) await pg.broadcast(x, i % pg.size);
  else await pg.reduceScatter(x, 'max', { out: block });
  if (pg.rank === 0 && i % 100 === 0) {
    const m = process.memoryUsage();
    console.log(JSON.stringify({ calls: i, bytes, rss_mib: mib(m.rss), external_mib: mib(m.external) }));
  }
}
await pg.destroy();
