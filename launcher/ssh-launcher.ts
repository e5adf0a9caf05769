/**
 * `tsrun --hostfile FILE` / `--hosts a:2,b:2`: starts an agent on every host (over SSH, or directly for
 * localhost), ranks host-major in hostfile order as mpirun's default by-slot mapping. Rank 0's host serves
 * the rendezvous: its agent is started first and picks the master port unless --master-port is given.
 * Any rank failure stops every host; the job is restarted whole up to --max-restarts times.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { DashboardPortError } from '../src/dashboard/errors.js';
import { HostsMonitor } from '../src/dashboard/hosts-monitor.js';
import { serveDashboard } from '../src/dashboard/job-dashboard.js';
import type { Dashboard } from '../src/dashboard/server.js';
import type { FlightDump } from '../src/flight-record.js';
import type { AgentEvent } from '../src/process/agent-protocol.js';
import { packageRootPath } from '../src/process/package-files.js';
import type { CliOptions } from './cli-options.js';
import { SshLaunchError, UsageError } from './errors.js';
import { writeFlightDumps } from './flight-dumps.js';
import { HostAgent } from './host-agent.js';
import { type HostSlots, isLocalHost, parseHostList, readHostfile } from './hostfile.js';
import { JobTrace } from './job-trace.js';
import { exitStatusFor, type Failure, formatRootCause } from './root-cause.js';
import { onStopSignal, signalExitStatus } from './stop-signals.js';

const START_TIMEOUT_MS = 60_000;

interface Attempt {
  agents: HostAgent[];
  flight: FlightDump[];
  failure?: Failure;
  launchError?: UsageError;
}

export function planHosts(hosts: HostSlots[]): { host: string; slots: number; rankOffset: number }[] {
  let offset = 0;
  return hosts.map((h) => {
    const p = { ...h, rankOffset: offset };
    offset += h.slots;
    return p;
  });
}

export async function runSshMode(o: CliOptions): Promise<number> {
  const hosts = o.hostfile !== undefined ? readHostfile(o.hostfile) : parseHostList(o.hosts!);
  const plan = planHosts(hosts);
  const worldSize = plan.reduce((n, h) => n + h.slots, 0);
  const allLocal = hosts.every((h) => isLocalHost(h.host));
  const masterAddr = o.masterAddr ?? (allLocal ? '127.0.0.1' : hosts[0].host);
  if (!allLocal && isLocalHost(masterAddr)) {
    throw new UsageError(
      `rank 0's host is ${masterAddr}, which remote hosts cannot reach; list a routable name first or set --master-addr`,
    );
  }
  const jobSecret = randomBytes(32).toString('hex');
  const dashboard = o.dashboardPort === undefined ? undefined : await openHostsDashboard(o, plan, jobSecret);
  const monitor = dashboard?.monitor;
  const cwd = o.remoteCwd ?? process.cwd();
  const common = {
    cwd,
    nodePath: o.remoteNode ?? process.execPath,
    tsrunBin: packageRootPath('bin/tsrun.js'),
    sshOpts: o.sshOpt,
  };
  const script = o.remoteCwd ? o.script : resolve(o.script);
  // Agents get a longer grace than ranks so they can finish TERM → KILL before ssh is killed.
  const agentKillAfterMs = o.killGraceMs + 5000;

  const trace = o.trace ? new JobTrace(o.trace) : undefined;
  const writeTrace = (outcome: string) => {
    if (!trace) return;
    const n = trace.write({ outcome, hosts: plan.map((h) => h.host) });
    process.stderr.write(`tsrun: timeline of ${n} process(es) written to ${o.trace}\n`);
  };
  let current: Attempt | undefined;
  let stopSignal: NodeJS.Signals | undefined;
  const stopAll = () => {
    for (const a of current?.agents ?? []) a.stop(agentKillAfterMs);
  };
  const dispose = onStopSignal((signal) => {
    stopSignal ??= signal;
    stopAll();
  });

  const runAttempt = async (restartCount: number): Promise<Attempt> => {
    const attempt: Attempt = { agents: [], flight: [] };
    current = attempt;
    const onEvent = (i: number) => (e: AgentEvent) => {
      const host = plan[i].host;
      // Hosts are named as in the hostfile: their own hostname() may repeat (containers, namespaces).
      if (e.ev === 'flight') {
        attempt.flight.push(...e.dumps.map((d) => ({ ...d, host })));
        return;
      }
      if (e.ev === 'trace') {
        trace?.addRemote(e.parts.map((p) => ({ ...p, host })));
        return;
      }
      if (e.ev === 'dash') monitor?.dash(i, e);
      else if (e.ev === 'started') monitor?.started(i, plan[i].rankOffset, e.pids);
      else monitor?.exited(e);
      if (e.ev === 'exit' && (e.code !== 0 || e.signal !== null) && !attempt.failure && !stopSignal) {
        attempt.failure = { host, rank: e.rank, code: e.code, signal: e.signal, stderrTail: e.stderrTail };
        stopAll();
      }
    };
    const startAgent = (i: number, masterPort: number) => {
      const h = plan[i];
      const agentArgs = [
        '--agent',
        '--nnodes',
        String(plan.length),
        '--node-rank',
        String(i),
        '--nproc-per-node',
        String(h.slots),
        '--rank-offset',
        String(h.rankOffset),
        '--world-size',
        String(worldSize),
        '--master-addr',
        masterAddr,
        '--master-port',
        String(masterPort),
        '--kill-grace-ms',
        String(o.killGraceMs),
        ...(o.tagOutput ? ['--tag-output'] : []),
        ...(o.logDir ? ['--log-dir', resolve(o.logDir)] : []),
        script,
        ...o.scriptArgs,
      ];
      let resolveStarted!: (port: number | undefined) => void;
      const started = new Promise<number | undefined>((r) => {
        resolveStarted = r;
      });
      const agent = new HostAgent(
        {
          ...common,
          host: h.host,
          agentArgs,
          hello: {
            jobSecret,
            env: o.env,
            restartCount,
            trace: trace !== undefined,
            ...(monitor && { dashboard: { pool: o.pool, host: h.host } }),
          },
        },
        (e) => {
          if (e.ev === 'started') resolveStarted(e.masterPort);
          onEvent(i)(e);
        },
      );
      attempt.agents.push(agent);
      void agent.exited.then((x) => {
        resolveStarted(undefined);
        if (!agent.started && !attempt.launchError && !stopSignal) {
          attempt.launchError = new SshLaunchError(h.host, x.ownStderr.join('\n') || `exit code ${x.code}`);
          stopAll();
        } else if (agent.started && x.code !== 0 && !attempt.failure && !stopSignal && !attempt.launchError) {
          // The agent or its SSH connection died without reporting a rank: blame the host.
          attempt.failure = {
            host: h.host,
            rank: h.rankOffset,
            code: x.code,
            signal: x.signal,
            stderrTail: [`the agent on ${h.host} exited (${x.signal ?? x.code}); ${x.ownStderr.join(' ')}`],
          };
          stopAll();
        }
      });
      const timer = setTimeout(() => {
        if (!agent.started && !attempt.launchError) {
          attempt.launchError = new SshLaunchError(h.host, `no answer within ${START_TIMEOUT_MS / 1000} s`);
          stopAll();
        }
      }, START_TIMEOUT_MS);
      timer.unref();
      return started.finally(() => clearTimeout(timer));
    };

    const port = await startAgent(0, o.masterPort ?? 0);
    if (port !== undefined && !stopSignal && !attempt.launchError) {
      await Promise.all(plan.slice(1).map((_, i) => startAgent(i + 1, port)));
    }
    await Promise.all(attempt.agents.map((a) => a.exited));
    return attempt;
  };

  try {
    for (let restart = 0; ; restart++) {
      const attempt = await runAttempt(restart);
      if (stopSignal) {
        writeTrace('stopped');
        process.stderr.write(`tsrun: job stopped by ${stopSignal}; ranks on every host are gone\n`);
        await dashboard?.server.close();
        return signalExitStatus(stopSignal);
      }
      if (attempt.launchError) throw attempt.launchError;
      // As in local mode: success closes the dashboard (tsrun exits at once), a failure keeps it 2 s.
      if (!attempt.failure) {
        writeTrace('succeeded');
        await dashboard?.server.close();
        return 0;
      }
      const f = attempt.failure;
      trace?.instant(`rank ${f.rank} failed`, {
        rank: f.rank,
        host: f.host,
        status: f.signal ?? `exit code ${f.code}`,
      });
      if (restart < o.maxRestarts) {
        process.stderr.write(
          `tsrun: rank ${attempt.failure.rank} on ${attempt.failure.host} failed; ` +
            `restarting the job (restart ${restart + 1} of ${o.maxRestarts})\n`,
        );
        trace?.instant(`restart ${restart + 1}`, { of: o.maxRestarts });
        continue;
      }
      writeTrace('failed');
      const dumps = attempt.flight.sort((a, b) => a.rank - b.rank);
      // The agents keep their ranks' records in private directories and send them here, so DIR is on
      // the launcher's host (a remote host's filesystem is not the user's).
      const dumpDir = o.dumpOnFailure;
      if (dumpDir) writeFlightDumps(dumpDir, dumps);
      process.stderr.write(formatRootCause(attempt.failure, restart + 1, dumps, worldSize));
      return exitStatusFor(attempt.failure);
    }
  } finally {
    dispose();
    monitor?.stop();
  }
}

/** The dashboard of every host's ranks, fed by the agents' control lines; a bad port is exit 2. */
async function openHostsDashboard(o: CliOptions, plan: { host: string }[], secret: string) {
  const monitor = new HostsMonitor(plan.map((h) => h.host));
  let server: Dashboard;
  try {
    server = await serveDashboard(monitor, {
      port: o.dashboardPort!,
      host: o.dashboardHost,
      secret,
      title: `${o.pool ? '--pool' : 'SPMD'} job on ${plan.length} hosts`,
    });
  } catch (e) {
    if (e instanceof DashboardPortError) throw new UsageError(e.message);
    throw e;
  }
  monitor.start();
  return { monitor, server };
}
