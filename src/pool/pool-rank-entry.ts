/**
 * What every rank of `tsrun --pool script.ts` runs. Rank 0 serves the head at MASTER_ADDR:MASTER_PORT
 * and then runs script.ts as the driver (its connect() attaches to that head, and its close() ends the
 * job); every other rank is a node agent with one worker, which exits when the head stops. The job
 * secret (TSRUN_JOB_SECRET) is the cluster secret.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readRankEnvironment } from '../env.js';
import { bindAddressFor } from '../transport/host-identity.js';
import { deriveJobKeys } from '../transport/keys.js';
import { registerOwnedHead } from './connect.js';
import { PoolConnectError } from './errors.js';
import { Head } from './head.js';
import { NodeAgent } from './node-agent.js';

async function driverRank(script: string, env: ReturnType<typeof readRankEnvironment>): Promise<void> {
  const bind = await bindAddressFor(env.masterAddr, env.masterPort);
  const head = await Head.start(deriveJobKeys(env.secret), bind, env.masterPort);
  // A one-rank job still needs a worker: run it under rank 0.
  const agent =
    env.size === 1
      ? await NodeAgent.start({ endpoint: `tcp://127.0.0.1:${head.port}`, secret: env.secret, workers: 1 })
      : undefined;
  const workers = Math.max(1, env.size - 1);
  const address = `${env.masterAddr}:${env.masterPort}`;
  process.env.TSRUN_POOL_ADDRESS = address;
  process.env.TSRUN_POOL_SECRET = env.secret;
  registerOwnedHead({
    address,
    head,
    workers,
    stop: async () => {
      await agent?.stop();
      await head.close();
    },
  });
  const deadline = Date.now() + 120_000;
  while (head.workers.size < workers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (head.workers.size < workers) {
    throw new PoolConnectError(`only ${head.workers.size} of ${workers} pool workers joined within 120 s`);
  }
  await import(pathToFileURL(path.resolve(script)).href);
}

async function workerRank(env: ReturnType<typeof readRankEnvironment>): Promise<void> {
  const host = env.masterAddr.includes(':') ? `[${env.masterAddr}]` : env.masterAddr;
  const deadline = Date.now() + 120_000;
  // Rank 0 may still be starting its head: retry until it answers.
  for (;;) {
    try {
      const agent = await NodeAgent.start({
        endpoint: `tcp://${host}:${env.masterPort}`,
        secret: env.secret,
        workers: 1,
        // Rank 0 shares its loop with the driver, which may compute for minutes; if rank 0 dies, the
        // launcher stops this rank anyway.
        headSilenceMs: 0,
      });
      await agent.done;
      process.exit(0);
    } catch (e) {
      if (Date.now() > deadline || !(e instanceof PoolConnectError) || /refused/.test(e.message)) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

const script = process.argv[2];
// The driver sees the argv it would have without tsrun: [node, script, ...args].
process.argv.splice(1, 1);
const env = readRankEnvironment();
(env.rank === 0 ? driverRank(script, env) : workerRank(env)).catch((e) => {
  process.stderr.write(`tsrun --pool rank ${env.rank}: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
