/**
 * Local (`--standalone`, `--nproc-per-node N`) and per-node (`--nnodes N --node-rank R ...`, as torchrun)
 * modes: this process starts the ranks of its own node and supervises them, restarting the node's ranks
 * after a failure up to --max-restarts times.
 */
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { DashboardPortError } from '../src/dashboard/errors.js';
import { type JobDashboard, openJobDashboard } from '../src/dashboard/job-dashboard.js';
import { jobSecret } from '../src/engines/job-identity.js';
import { freePort, newJobSecret } from '../src/process/local-spawner.js';
import type { CliOptions } from './cli-options.js';
import { PortBusyError, UsageError } from './errors.js';
import { openFlightDir } from './flight-dumps.js';
import { JobTrace } from './job-trace.js';
import { readLauncherConfig } from './launcher-config.js';
import { NodeRun } from './node-runner.js';
import { exitStatusFor, formatRootCause } from './root-cause.js';
import { onStopSignal, signalExitStatus } from './stop-signals.js';

const TORCHRUN_DEFAULT_PORT = 29500;

/** Rejects with PortBusyError when something already listens on addr:port. */
export function assertPortFree(addr: string, port: number): Promise<void> {
  const tryBind = (host: string) =>
    new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const srv = createServer();
      srv.once('error', (err: NodeJS.ErrnoException) => resolve(err));
      srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(undefined)));
    });
  return tryBind(addr).then(async (err) => {
    // The master address may name this host by a name or address it cannot bind; check the wildcard.
    if (err?.code === 'EADDRNOTAVAIL' || err?.code === 'ENOTFOUND') err = await tryBind('0.0.0.0');
    if (err?.code === 'EADDRINUSE' || err?.code === 'EACCES') throw new PortBusyError(addr, port);
  });
}

/**
 * Every node of a per-node job needs the same secret. TSRUN_JOB_SECRET set on every node is the secure
 * way; without it, the paper's torchrun-style commands must still work, so all nodes derive the same
 * secret — which authenticates nothing, hence the warning. The derivation takes in the job's shape and
 * --rdzv-id, so a second job reusing the master address with another run id (or shape) holds other keys
 * and cannot join the first one's rendezvous; with a secret, --rdzv-id is folded in as well.
 */
export function jobSecretFor(o: CliOptions, masterAddr: string, masterPort: number): string {
  const given = readLauncherConfig().jobSecret;
  if (o.nnodes === 1) return given ?? newJobSecret();
  if (!given) {
    process.stderr.write(
      'tsrun: warning: TSRUN_JOB_SECRET is not set; all nodes use a secret derived from --master-addr, ' +
        `--master-port${o.rdzvId ? ', --rdzv-id' : ''} and the job's shape. Export the same TSRUN_JOB_SECRET ` +
        '(64 hex chars) on every node to authenticate the job' +
        (o.rdzvId ? '.\n' : ', or give every job its own --rdzv-id to keep jobs apart.\n'),
    );
  }
  const shape = given ? '' : `nodes=${o.nnodes}x${o.nprocPerNode}`;
  const identity = [shape, o.rdzvId ? `rdzv:${o.rdzvId}` : ''].filter(Boolean).join('|');
  return jobSecret(given, identity || undefined, masterAddr, masterPort);
}

/** The dashboard of this node's ranks; a port that cannot be bound is a usage error (exit 2). */
async function openDashboard(o: CliOptions, secret: string): Promise<JobDashboard> {
  try {
    return await openJobDashboard({ port: o.dashboardPort!, host: o.dashboardHost, secret, pool: o.pool });
  } catch (e) {
    if (e instanceof DashboardPortError) throw new UsageError(e.message);
    throw e;
  }
}

export async function runLocalMode(o: CliOptions): Promise<number> {
  const masterAddr = o.standalone ? '127.0.0.1' : (o.masterAddr ?? '127.0.0.1');
  const pickPort = o.nnodes === 1 && (o.standalone || o.masterPort === undefined);
  let masterPort = pickPort ? await freePort(masterAddr) : (o.masterPort ?? TORCHRUN_DEFAULT_PORT);
  if (!pickPort && o.nodeRank === 0) await assertPortFree(masterAddr, masterPort);
  const jobSecret = jobSecretFor(o, masterAddr, masterPort);
  const dashboard = o.dashboardPort === undefined ? undefined : await openDashboard(o, jobSecret);

  const trace = o.trace ? new JobTrace(o.trace) : undefined;
  const traceEnv: Record<string, string> = trace ? { TSRUN_TRACE_DIR: trace.dir } : {};
  const writeTrace = (outcome: string) => {
    if (!trace) return;
    const n = trace.write({ outcome, command: [o.script, ...o.scriptArgs].join(' ') });
    process.stderr.write(`tsrun: timeline of ${n} process(es) written to ${o.trace}\n`);
  };
  let current: NodeRun | undefined;
  let stopSignal: NodeJS.Signals | undefined;
  const dispose = onStopSignal((signal, repeated) => {
    stopSignal ??= signal;
    void current?.stop(`tsrun received ${signal}`, repeated ? 'SIGKILL' : 'SIGTERM');
  });
  try {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0 && pickPort) masterPort = await freePort(masterAddr);
      const flight = openFlightDir(o.dumpOnFailure);
      current = new NodeRun({
        script: o.script,
        scriptArgs: o.scriptArgs,
        rankOffset: o.nodeRank * o.nprocPerNode,
        localWorldSize: o.nprocPerNode,
        worldSize: o.nnodes * o.nprocPerNode,
        groupRank: o.nodeRank,
        masterAddr,
        masterPort,
        jobSecret,
        restartCount: attempt,
        extraEnv: { ...o.env, ...dashboard?.rankEnv, TSRUN_FLIGHT_DIR: flight.dir, ...traceEnv },
        tagOutput: o.tagOutput,
        logDir: o.logDir,
        killGraceMs: o.killGraceMs,
        ...(dashboard && { preload: dashboard.preload, ipc: true }),
      });
      dashboard?.monitor.track(
        current.job,
        Array.from({ length: o.nprocPerNode }, (_, i) => o.nodeRank * o.nprocPerNode + i),
      );
      if (stopSignal) void current.stop(`tsrun received ${stopSignal}`);
      const result = await current.done;
      const dumps = flight.collect();
      if (stopSignal) {
        trace?.instant(`stopped by ${stopSignal}`, {});
        writeTrace('stopped');
        process.stderr.write(`tsrun: job stopped by ${stopSignal}; all ranks are gone\n`);
        await dashboard?.server.close();
        return signalExitStatus(stopSignal);
      }
      // A finished job closes its dashboard so tsrun exits at once (an open server would hold it for the
      // 2-second drain window: +2 s per job). A failed one keeps its final state up for that window.
      if (!result.failure) {
        writeTrace('succeeded');
        await dashboard?.server.close();
        return 0;
      }
      const failure = { host: hostname(), ...result.failure };
      trace?.instant(`rank ${failure.rank} failed`, {
        rank: failure.rank,
        host: failure.host,
        status: failure.signal ?? `exit code ${failure.code}`,
      });
      if (attempt < o.maxRestarts) {
        process.stderr.write(
          `tsrun: rank ${failure.rank} failed (${failure.signal ?? `exit code ${failure.code}`}); ` +
            `restarting the job (restart ${attempt + 1} of ${o.maxRestarts})\n`,
        );
        trace?.instant(`restart ${attempt + 1}`, { of: o.maxRestarts });
        continue;
      }
      // The timeline of a failed job is the one most worth reading.
      writeTrace('failed');
      process.stderr.write(
        formatRootCause(failure, attempt + 1, dumps, o.nnodes === 1 ? o.nprocPerNode : undefined),
      );
      return exitStatusFor(failure);
    }
  } finally {
    dispose();
  }
}
