/**
 * The background process of `tsrun cluster start`: a head (with this host's workers) for --head, or a
 * node agent joining a head for --address. Started detached by cluster-cli.ts with the secret in its
 * environment; says "ready" (or why it failed) over the IPC channel, then runs until `tsrun cluster stop`.
 */
import { hostname } from 'node:os';
import { ClusterMonitor } from '../src/dashboard/cluster-monitor.js';
import { DashboardPortError } from '../src/dashboard/errors.js';
import { serveDashboard } from '../src/dashboard/job-dashboard.js';
import { removeClusterFiles, writeClusterFiles } from '../src/pool/cluster-files.js';
import { Head } from '../src/pool/head.js';
import { JobManager } from '../src/pool/jobs/job-manager.js';
import { NodeAgent } from '../src/pool/node-agent.js';
import { deriveJobKeys } from '../src/transport/keys.js';
import {
  type ClusterDaemonConfig,
  LAUNCHER_ENV,
  readClusterDaemonConfig,
  readLauncherConfig,
} from './launcher-config.js';

function tell(msg: object): void {
  if (!process.send) return;
  process.send(msg, () => process.disconnect?.());
}

async function runHead(secret: string, config: ClusterDaemonConfig): Promise<void> {
  const workers = config.workers ?? 0;
  const head = await Head.start(deriveJobKeys(secret), config.bind, config.port ?? 0);
  const address = `${config.advertise}:${head.port}`;
  const jobs = new JobManager(address, secret);
  head.onJobRequest = (body, reply) => jobs.handle(body, reply);
  // Before any client joins, so every Welcome asks for dashboard samples.
  const dashboard = await openDashboard(head, secret, config, jobs);
  const agent =
    workers > 0
      ? await NodeAgent.start({ endpoint: `tcp://127.0.0.1:${head.port}`, secret, workers })
      : undefined;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await jobs.stopAll();
    await agent?.stop();
    await head.close();
    removeClusterFiles();
    process.exit(0);
  };
  head.onShutdown = () => void stop();
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // "ready" means ready to run tasks: wait (bounded) for this host's workers to join.
  const deadline = Date.now() + 60_000;
  while (head.workers.size < workers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await writeClusterFiles(secret, {
    address,
    local: head.localEndpoint,
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
  });
  tell({ ready: true, address, dashboard });
}

/** With TSRUN_CLUSTER_DASHBOARD_PORT: serves the dashboard; returns what `cluster start` prints. */
async function openDashboard(
  head: Head,
  secret: string,
  config: ClusterDaemonConfig,
  jobs: JobManager,
): Promise<string | undefined> {
  const port = config.dashboardPort;
  if (port === undefined) return undefined;
  const monitor = new ClusterMonitor(head, jobs);
  let said = '';
  await serveDashboard(monitor, {
    port,
    host: config.dashboardHost,
    secret,
    title: `cluster at ${hostname()}`,
    log: (text) => {
      said = text;
    },
  });
  monitor.start();
  return said;
}

async function runNode(secret: string, config: ClusterDaemonConfig): Promise<void> {
  const { address } = config;
  const workers = config.workers ?? 1;
  const agent = await NodeAgent.start({ endpoint: `tcp://${address}`, secret, workers });
  process.on('SIGTERM', () => void agent.stop());
  tell({ ready: true, address });
  await agent.done;
  process.exit(0);
}

const secret = readLauncherConfig().poolSecret ?? '';
// Kept out of the environment of every process this daemon starts.
delete process.env[LAUNCHER_ENV.poolSecret.name];
const config = readClusterDaemonConfig();
(config.role === 'head' ? runHead(secret, config) : runNode(secret, config)).catch((e) => {
  tell({ ready: false, error: (e as Error).message, usage: e instanceof DashboardPortError });
  process.stderr.write(`tsrun cluster: ${(e as Error).stack}\n`);
  setTimeout(() => process.exit(1), 100);
});
