import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatNumber, formatSeconds } from './format.js';
import type { CellResult } from './result-types.js';
import { markdownTable } from './tables.js';

/**
 * One measurement of a Python peer (`bench/peers/*.py`): the peer's own JSON line plus what the
 * runner gave it (`size`, `workers`), written by experiments/run-all/peers.ts to `results/peers/`.
 */
export interface PeerRecord {
  peer: string;
  exp: string;
  size?: string;
  workers?: number;
  sec?: number;
  images_per_sec?: number;
  ch_mean?: number;
}

export async function loadPeerRecords(dir: string): Promise<PeerRecord[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: PeerRecord[] = [];
  for (const n of names) {
    const v = JSON.parse(await readFile(join(dir, n), 'utf8')) as unknown;
    if (typeof v === 'object' && v !== null && typeof (v as PeerRecord).peer === 'string')
      out.push(v as PeerRecord);
  }
  return out;
}

const secs = (v: number | undefined) => (v === undefined ? '–' : `${formatSeconds(v)} s`);

const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && b > 0 ? (a / b).toFixed(2) : '–';

/**
 * tsrun against the peers measured in the same run, as ratios (tsrun time / peer time: below 1 means
 * tsrun was faster; for throughput, tsrun images/s / peer images/s: above 1 means tsrun was faster).
 */
export function peerTable(results: CellResult[], peers: PeerRecord[]): string | undefined {
  const rows: string[][] = [];
  const pick = (exp: string, mode: string | undefined, size: string, nodes: number, style: string) =>
    results.find(
      (r) =>
        r.experiment === exp && r.mode === mode && r.size === size && r.nodes === nodes && r.style === style,
    );
  for (const p of peers) {
    if (p.exp === 'kmeans-blocks' && p.size !== undefined && p.workers !== undefined) {
      const pool = pick('kmeans', 'paper', p.size, p.workers, 'pool');
      const spmd = pick('kmeans', 'paper', p.size, p.workers, 'spmd');
      rows.push([
        `k-means paper mode, ${p.size}, ${p.workers} workers`,
        `${p.peer}: ${secs(p.sec)} (CH ${formatNumber(p.ch_mean, 6)})`,
        `${secs(spmd?.seconds)} / ${secs(pool?.seconds)}`,
        `${ratio(spmd?.seconds, p.sec)} / ${ratio(pool?.seconds, p.sec)}`,
      ]);
    } else if (p.exp === 'pagerank-global' && p.size !== undefined) {
      const spmd = pick('pagerank', 'global', p.size, 1, 'spmd');
      const pool = pick('pagerank', 'global', p.size, 1, 'pool');
      rows.push([
        `PageRank global, ${p.size}, 1 process`,
        `${p.peer}: ${secs(p.sec)}`,
        `${secs(spmd?.seconds)} / ${secs(pool?.seconds)}`,
        `${ratio(spmd?.seconds, p.sec)} / ${ratio(pool?.seconds, p.sec)}`,
      ]);
    } else if (p.exp === 'cnn-train') {
      const spmd = results.find((r) => r.experiment === 'pneumonia' && r.nodes === 1 && r.style === 'spmd');
      const pool = results.find((r) => r.experiment === 'pneumonia' && r.nodes === 1 && r.style === 'pool');
      rows.push([
        'CNN training throughput, 1 process (images/s; peer at 224×224, batch 64)',
        `${p.peer}: ${formatNumber(p.images_per_sec, 4)} img/s`,
        `${formatNumber(spmd?.imagesPerSec, 4)} / ${formatNumber(pool?.imagesPerSec, 4)} img/s`,
        `${ratio(spmd?.imagesPerSec, p.images_per_sec)} / ${ratio(pool?.imagesPerSec, p.images_per_sec)}`,
      ]);
    }
  }
  if (rows.length === 0) return undefined;
  return markdownTable(
    ['measurement', 'peer', 'tsrun spmd / pool', 'ratio tsrun ÷ peer (spmd / pool)'],
    rows,
  );
}
