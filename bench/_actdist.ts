import { connect } from '../src/pool/index.js';
const FNS = new URL('./actors-fns.ts', import.meta.url);
const pool = await connect({ workers: 2 });
const Echo = pool.actorClass<any>(FNS, 'Echo');
const a = Echo.create(); await a.ready();
if (process.env.ASYNCWARM) await pool.get(Array.from({ length: 2000 }, (_, i) => a.call('echo', i)));
for (let i = 0; i < 3000; i++) await pool.get(a.call('echo', i));
const r: number[] = [];
const t0 = performance.now();
for (let i = 0; i < 5000; i++) { const t = performance.now(); await pool.get(a.call('echo', i)); r.push(performance.now() - t); }
const tot = performance.now() - t0;
r.sort((x, y) => x - y);
const q = (p: number) => r[Math.floor(p * r.length)].toFixed(3);
const sum = r.reduce((s, x) => s + x, 0);
console.log({ perSec: 5000 / tot * 1000, mean: sum / r.length, p10: q(0.1), p50: q(0.5), p90: q(0.9), p99: q(0.99), max: r[r.length - 1], over05: r.filter((x) => x > 0.5).reduce((s, x) => s + x, 0) / tot });
await pool.close();
