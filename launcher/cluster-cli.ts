/**
 * `tsrun cluster start --head [--port P] [--workers N] | start --address HOST:PORT [--workers N] |
 * status | stop`: a persistent pool cluster, like `ray start`. `start` runs the head or node in the
 * background and returns once it is serving; the secret is written to a 0600 file on the head's host.
 * `start --head --dashboard-port P [--dashboard-host H]` also serves the cluster's live dashboard from the
 * head (src/dashboard/cluster-monitor.ts) and prints its URL.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import path from 'node:path';
import yargs from 'yargs';
import { TsrunError } from '../src/errors.js';
import { clusterDir, readHeadInfo, readSecretFile, secretPath } from '../src/pool/cluster-files.js';
import { HeadLink } from '../src/pool/head-link.js';
import { PoolOp } from '../src/pool/protocol.js';
import { newJobSecret, tsxCommand } from '../src/process/local-spawner.js';
import { packageModulePath } from '../src/process/package-files.js';
import { hostIdentity } from '../src/transport/host-identity.js';
import { deriveJobKeys } from '../src/transport/keys.js';
import { readLauncherConfig } from './launcher-config.js';

const DAEMON = packageModulePath(import.meta.url, './cluster-daemon.ts');
export const DEFAULT_CLUSTER_PORT = 6380;

/** A bad `tsrun cluster` invocation: one line, exit code 2 (as the launcher's UsageError). */
export class ClusterUsageError extends TsrunError {
  override name = 'ClusterUsageError';
  readonly exitCode = 2;
}

function parse(argv: string[]) {
  return yargs(argv)
    .scriptName('tsrun cluster')
    .usage(
      'tsrun cluster start --head [--port P] [--workers N] [--object-store-memory BYTES] [--dashboard-port P [--dashboard-host H]]\n' +
        'tsrun cluster start --address HOST:PORT [--workers N] [--object-store-memory BYTES]\n' +
        'tsrun cluster status [--address HOST:PORT]\n' +
        'tsrun cluster stop [--address HOST:PORT]\n\n' +
        'A persistent task-pool cluster. Drivers attach with connect() (this host finds it by itself), ' +
        'connect({ address }) or TSRUN_POOL_ADDRESS; every process must hold the cluster secret ' +
        `(TSRUN_POOL_SECRET, or the file the head wrote: ${secretPath()}).`,
    )
    .command('start', 'start a head (--head) or join one (--address) in the background')
    .command('status', 'nodes, workers (busy/idle), queued tasks, memory per node')
    .command('stop', 'stop the cluster: head, nodes and workers')
    .options({
      head: {
        type: 'boolean',
        default: false,
        describe: 'start the head (scheduler + object directory) here',
      },
      port: { type: 'number', default: DEFAULT_CLUSTER_PORT, describe: 'head port (start --head)' },
      host: {
        type: 'string',
        describe: 'address the head binds and advertises (default: bind all, advertise 127.0.0.1)',
      },
      address: {
        type: 'string',
        describe: 'HOST:PORT of the head (default TSRUN_POOL_ADDRESS or this host’s cluster)',
      },
      workers: {
        type: 'number',
        describe: 'worker processes on this host (default: cores; 0 for a head without workers)',
      },
      'object-store-memory': {
        type: 'number',
        describe:
          'start: bytes of object store memory on this node, split among its workers (default TSRUN_OBJECT_STORE_BYTES, else 30% of RAM); past it objects spill to TSRUN_SPILL_DIR',
      },
      'dashboard-port': {
        type: 'number',
        describe:
          'start --head: serve the live dashboard (web page + GET /api/state) of the whole cluster on this port of the head; 0 = any free port',
      },
      'dashboard-host': {
        type: 'string',
        describe:
          'address the dashboard binds (default 127.0.0.1); off loopback the printed URL carries a token derived from the cluster secret',
      },
    })
    .strict()
    .demandCommand(1, 'give a command: start, status or stop')
    .help()
    .version(false)
    .wrap(110)
    .exitProcess(false)
    .fail((msg, err) => {
      throw new ClusterUsageError(`${msg ?? err?.message ?? 'bad arguments'} (see tsrun cluster --help)`);
    })
    .parseSync();
}

export function needSecret(): string {
  const s = readLauncherConfig().poolSecret || readSecretFile();
  if (!s) {
    throw new ClusterUsageError(
      `no cluster secret: set TSRUN_POOL_SECRET (copy it from ${secretPath()} on the head's host)`,
    );
  }
  return s;
}

export function addressOf(a: { address?: string }): string {
  const addr = a.address || readLauncherConfig().poolAddress || readHeadInfo()?.address;
  if (!addr)
    throw new ClusterUsageError(
      'no cluster address: give --address HOST:PORT (no cluster is running on this host)',
    );
  if (!/^(\[[^\]]+\]|[^:]+):\d+$/.test(addr))
    throw new ClusterUsageError(`--address ${addr} is not HOST:PORT`);
  return addr;
}

/** Starts the daemon detached and waits for its "ready" over IPC. */
function startDaemon(
  env: Record<string, string>,
  logName: string,
): Promise<{ address: string; dashboard?: string }> {
  const dir = clusterDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = path.join(dir, logName);
  const fd = openSync(log, 'a', 0o600);
  const child = spawn(process.execPath, tsxCommand(DAEMON), {
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd, 'ipc'],
    detached: true,
  });
  return new Promise((resolve, reject) => {
    child.once(
      'message',
      (m: { ready: boolean; address?: string; error?: string; dashboard?: string; usage?: boolean }) => {
        child.unref();
        child.channel?.unref();
        if (m.ready) resolve({ address: String(m.address), dashboard: m.dashboard });
        else if (m.usage) reject(new ClusterUsageError(String(m.error)));
        else reject(new Error(`${m.error} (log: ${log})`));
      },
    );
    child.once('exit', (code) =>
      reject(new Error(`the cluster process exited with code ${code} before it was ready (log: ${log})`)),
    );
  });
}

async function adminRequest(address: string, op: PoolOp): Promise<unknown> {
  const keys = deriveJobKeys(needSecret());
  const { link } = await HeadLink.open(`tcp://${address}`, keys, {
    role: 'admin',
    pid: process.pid,
    host: hostIdentity(),
    hostname: hostname(),
  });
  try {
    if (op === PoolOp.Shutdown) {
      await link.sendNow(op, 0);
      return undefined;
    }
    return await new Promise((resolve) => {
      link.onMessage = (m) => {
        if (m.op === PoolOp.StatusReply) resolve(m.body);
      };
      link.send(op, 0);
    });
  } finally {
    link.close();
  }
}

function formatStatus(s: Record<string, unknown>): string {
  const head = s.head as { hostname: string; pid: number; address: string };
  const nodes = s.nodes as Array<{
    hostname: string;
    pid: number;
    workers: number;
    busy: number;
    idle: number;
    tasksDone: number;
    memory: { rss?: number; free?: number; total?: number };
  }>;
  const gib = (b?: number) => (b === undefined ? '?' : `${(b / 2 ** 30).toFixed(1)} GiB`);
  const lines = [
    `head: ${head.hostname} pid ${head.pid} (${head.address})`,
    `workers: ${s.workers}  drivers: ${s.drivers}  queued tasks: ${s.queued}  running: ${s.running}  objects: ${s.objects}`,
    'nodes:',
  ];
  for (const n of nodes) {
    lines.push(
      `  ${n.hostname} pid ${n.pid}: ${n.workers} workers (${n.busy} busy, ${n.idle} idle), ${n.tasksDone} tasks done, ` +
        `memory ${gib(n.memory.total !== undefined && n.memory.free !== undefined ? n.memory.total - n.memory.free : undefined)} used of ${gib(n.memory.total)}`,
    );
  }
  if (nodes.length === 0) lines.push('  (none)');
  return `${lines.join('\n')}\n`;
}

export async function runClusterCommand(argv: string[]): Promise<number> {
  try {
    const a = parse(argv);
    if (a.help) return 0;
    const cmd = String(a._[0]);
    const workers = a.workers ?? availableParallelism();
    if (!Number.isInteger(workers) || workers < 0)
      throw new ClusterUsageError(`--workers must be an integer ≥ 0, got ${a.workers}`);
    const dashboardPort = a.dashboardPort as number | undefined;
    if (dashboardPort !== undefined && (cmd !== 'start' || !a.head))
      throw new ClusterUsageError('--dashboard-port is served by the head: use it with cluster start --head');
    if (
      dashboardPort !== undefined &&
      (!Number.isInteger(dashboardPort) || dashboardPort < 0 || dashboardPort > 65535)
    )
      throw new ClusterUsageError(`--dashboard-port must be an integer 0..65535, got ${dashboardPort}`);
    if (a.dashboardHost !== undefined && dashboardPort === undefined)
      throw new ClusterUsageError('--dashboard-host needs --dashboard-port');
    const storeBytes = a.objectStoreMemory as number | undefined;
    if (storeBytes !== undefined && (!Number.isInteger(storeBytes) || storeBytes < 1))
      throw new ClusterUsageError(
        `--object-store-memory must be a positive integer of bytes, got ${storeBytes}`,
      );
    const storeEnv: Record<string, string> =
      storeBytes === undefined ? {} : { TSRUN_OBJECT_STORE_BYTES: String(storeBytes) };
    if (cmd === 'start') {
      if (a.head === (a.address !== undefined)) {
        throw new ClusterUsageError('cluster start needs exactly one of --head or --address HOST:PORT');
      }
      if (a.head) {
        const running = readHeadInfo();
        if (running)
          throw new ClusterUsageError(
            `a cluster is already running here (head pid ${running.pid} at ${running.address}); stop it first`,
          );
        const secret = readLauncherConfig().poolSecret || newJobSecret();
        const { address, dashboard } = await startDaemon(
          {
            ...(dashboardPort !== undefined && {
              TSRUN_CLUSTER_DASHBOARD_PORT: String(dashboardPort),
              TSRUN_CLUSTER_DASHBOARD_HOST: String(a.dashboardHost ?? ''),
            }),
            ...storeEnv,
            TSRUN_CLUSTER_ROLE: 'head',
            TSRUN_POOL_SECRET: secret,
            TSRUN_CLUSTER_PORT: String(a.port),
            TSRUN_CLUSTER_WORKERS: String(workers),
            TSRUN_CLUSTER_BIND: a.host ?? '0.0.0.0',
            TSRUN_CLUSTER_ADVERTISE: a.host ?? '127.0.0.1',
          },
          'head.log',
        );
        process.stdout.write(
          `tsrun cluster: head serving at ${address} with ${workers} workers\n` +
            `  secret: ${secretPath()} (mode 0600)\n` +
            `  join from another host: TSRUN_POOL_SECRET=<secret> tsrun cluster start --address ${address}\n` +
            (a.host
              ? ''
              : '    (with this host’s reachable address instead of 127.0.0.1; `--host ADDR` advertises it)\n') +
            `  attach a driver: connect({ address: '${address}' }) or TSRUN_POOL_ADDRESS=${address}\n` +
            (dashboard ?? ''),
        );
        return 0;
      }
      const address = addressOf(a);
      const secret = needSecret();
      await startDaemon(
        {
          ...storeEnv,
          TSRUN_CLUSTER_ROLE: 'node',
          TSRUN_POOL_SECRET: secret,
          TSRUN_CLUSTER_ADDRESS: address,
          TSRUN_CLUSTER_WORKERS: String(workers),
        },
        `node-${Date.now()}.log`,
      );
      process.stdout.write(`tsrun cluster: ${workers} workers on ${hostname()} joined ${address}\n`);
      return 0;
    }
    if (cmd === 'status') {
      process.stdout.write(
        formatStatus((await adminRequest(addressOf(a), PoolOp.Status)) as Record<string, unknown>),
      );
      return 0;
    }
    if (cmd === 'stop') {
      const address = addressOf(a);
      const local = readHeadInfo();
      await adminRequest(address, PoolOp.Shutdown);
      if (local && local.address === address) {
        const deadline = Date.now() + 10_000;
        while (readHeadInfo() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      }
      process.stdout.write(`tsrun cluster: stopped the cluster at ${address}\n`);
      return 0;
    }
    throw new ClusterUsageError(`unknown cluster command '${cmd}' (start, status or stop)`);
  } catch (e) {
    process.stderr.write(`tsrun cluster: error: ${(e as Error).message}\n`);
    return e instanceof ClusterUsageError ? 2 : 1;
  }
}
