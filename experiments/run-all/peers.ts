import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/atomic-write.js';
import { checkPythonPeer, type PeerCheck } from '../common/python-peer.js';
import type { PeerRecord } from '../report/peer-table.js';
import type { Dataset } from './datasets.js';
import type { RunOptions } from './options.js';
import { runChild } from './run-child.js';

/** The peer scripts of `bench/peers/` the report compares with, and the modules each needs. */
const PEERS = {
  kmeans: { script: 'kmeans_dask.py', modules: ['numpy', 'pandas', 'sklearn', 'dask.distributed'] },
  pagerank: { script: 'pagerank_scipy.py', modules: ['numpy', 'pandas', 'scipy'] },
  cnn: { script: 'cnn_torch.py', modules: ['torch'] },
} as const;

/** Training steps the torch peer times: enough to average out the first step, short on 2 cores. */
const CNN_PEER_STEPS = 2;

interface PeerJob {
  name: string;
  script: string;
  args: string[];
  extra: Partial<PeerRecord>;
}

function jobsFor(opts: RunOptions, graphs: Map<string, Dataset>): PeerJob[] {
  const jobs: PeerJob[] = [];
  const g = opts.grid;
  for (const [size, data] of graphs) {
    if (g.experiments.includes('kmeans') && g.kmeansModes.includes('paper')) {
      for (const n of g.ranks) {
        jobs.push({
          name: `kmeans-blocks_${size}_${n}workers`,
          script: PEERS.kmeans.script,
          args: [data.path, String(n)],
          extra: { size, workers: n },
        });
      }
    }
    if (g.experiments.includes('pagerank') && g.pagerankModes.includes('global')) {
      jobs.push({
        name: `pagerank-global_${size}`,
        script: PEERS.pagerank.script,
        args: [data.path],
        extra: { size, workers: 1 },
      });
    }
  }
  if (g.experiments.includes('pneumonia')) {
    jobs.push({
      name: 'cnn-train',
      script: PEERS.cnn.script,
      args: [String(CNN_PEER_STEPS)],
      extra: { workers: 1 },
    });
  }
  return jobs;
}

/**
 * Runs the Python peers on the same inputs when `/usr/bin/python3` has their packages (`--peers auto`);
 * each measurement lands in `results/peers/<name>.json`, and is reused on a resumed run.
 */
export async function runPeers(
  opts: RunOptions,
  peersDir: string,
  graphs: Map<string, Dataset>,
): Promise<void> {
  if (opts.peers === 'off') return;
  const available = new Map<string, PeerCheck>();
  for (const p of Object.values(PEERS)) available.set(p.script, checkPythonPeer(opts.python, p.modules));
  for (const job of jobsFor(opts, graphs)) {
    const out = join(opts.resultsDir, 'peers', `${job.name}.json`);
    const check = available.get(job.script) ?? { ok: false, reason: `no such peer ${job.script}` };
    if (!check.ok) {
      process.stderr.write(`[run-all] peer ${job.name}: skipped: ${check.reason}\n`);
      continue;
    }
    if (!existsSync(join(peersDir, job.script))) {
      process.stderr.write(`[run-all] peer ${job.name}: skipped: ${join(peersDir, job.script)} not found\n`);
      continue;
    }
    if (!opts.force && (await stat(out).catch(() => undefined))) continue;
    process.stderr.write(`[run-all] peer ${job.name}: running ${job.script}\n`);
    const run = await runChild(opts.python, [join(peersDir, job.script), ...job.args], {
      cwd: process.cwd(),
      env: { ...process.env, THREADS: '1', OMP_NUM_THREADS: '1' },
      timeoutMs: opts.cellTimeoutSec * 1000,
      logFile: join(opts.resultsDir, 'logs', `peer-${job.name}.log`),
    });
    const last = run.stdout.trim().split('\n').pop() ?? '';
    let record: PeerRecord | undefined;
    try {
      record = JSON.parse(last) as PeerRecord;
    } catch {
      record = undefined;
    }
    if (run.code !== 0 || !record) {
      process.stderr.write(
        `[run-all] peer ${job.name}: FAILED (exit ${run.code ?? run.signal}; see logs/peer-${job.name}.log)\n`,
      );
      continue;
    }
    await writeFileAtomic(out, `${JSON.stringify({ ...record, ...job.extra })}\n`);
    process.stderr.write(`[run-all] peer ${job.name}: ok in ${run.seconds.toFixed(1)}s\n`);
  }
}
