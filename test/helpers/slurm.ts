/**
 * A real one-node Slurm cluster for the engine tests: munged, slurmctld and slurmd (Debian's slurm-wlm
 * and munge) started directly, in the foreground, from a slurm.conf in a temporary directory — their own
 * munge key and socket, their own ports, state and spool. stop() cancels the cluster's jobs and ends ONLY
 * those three daemons, by the pids it started (never by name), then removes the directory.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { asUser, withoutTapLoaders } from './compiled-package.js';

export interface SlurmCluster {
  dir: string;
  conf: string;
  /** The node's name: what SLURM_STEP_NODELIST holds. */
  node: string;
  /** Environment for srun/sbatch/squeue: SLURM_CONF points at this cluster; no MASTER_* nor secret. */
  env: NodeJS.ProcessEnv;
  /** The daemons' log tails, for a failure message. */
  logs(): string;
  stop(): Promise<void>;
}

const DAEMONS = ['/usr/sbin/munged', '/usr/sbin/slurmctld', '/usr/sbin/slurmd'];
const CLIENTS = ['srun', 'sbatch', 'squeue', 'scancel', 'scontrol', 'sinfo'];

/** The CPUs the node claims (config_overrides lets it claim more than the host's cores). */
export const SLURM_CPUS = 6;

/** Why the Slurm tests cannot run here, or undefined when they can. */
export function slurmUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'Slurm needs Linux';
  if (process.getuid?.() !== 0) return 'slurmd must run as root to start tasks (run the tests as root)';
  for (const d of DAEMONS) if (!existsSync(d)) return `${d} is missing (apt-get install slurm-wlm munge)`;
  for (const c of CLIENTS) {
    try {
      execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
    } catch {
      return `${c} is missing (apt-get install slurm-client)`;
    }
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(...asUser(cmd, args), { env, timeout: 15_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, why: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} within ${timeoutMs} ms\n${why()}`);
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function exited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null;
}

async function stopDaemon(p: ChildProcess): Promise<void> {
  if (exited(p) || p.pid === undefined) return;
  const gone = new Promise<void>((r) => p.once('exit', () => r()));
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    if (!exited(p) && p.pid !== undefined) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
    }
  }, 10_000);
  await gone;
  clearTimeout(timer);
}

export async function startSlurm(): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-slurm-'));
  chmodSync(dir, 0o755);
  for (const sub of ['munge', 'state', 'spool', 'out']) mkdirSync(join(dir, sub), { mode: 0o755 });
  chmodSync(join(dir, 'munge'), 0o711);
  chmodSync(join(dir, 'out'), 0o777);
  const node = hostname().split('.')[0];
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const munge = {
    key: join(dir, 'munge', 'munge.key'),
    socket: join(dir, 'munge', 'munge.socket'),
    pid: join(dir, 'munge', 'munged.pid'),
    log: join(dir, 'munge', 'munged.log'),
    seed: join(dir, 'munge', 'munged.seed'),
  };
  writeFileSync(munge.key, randomBytes(1024), { mode: 0o400 });
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      `ClusterName=tsrun${process.pid}`,
      `SlurmctldHost=${node}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${munge.socket}`,
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
      'SlurmctldDebug=info',
      'SlurmdDebug=info',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'MpiDefault=none',
      'SchedulerType=sched/builtin',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_CPU',
      // The node claims more CPUs than the host has, so two 3-task jobs run at once on 2 cores.
      'SlurmdParameters=config_overrides',
      'ReturnToService=2',
      'MailProg=/bin/true',
      'InactiveLimit=0',
      'KillWait=5',
      'MinJobAge=300',
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${SLURM_CPUS} State=UNKNOWN`,
      'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO',
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = { ...withoutTapLoaders(), SLURM_CONF: conf };
  for (const k of Object.keys(env)) {
    if (
      /^(MASTER_|TSRUN_JOB_SECRET|TSRUN_RDZV_ID|RANK$|WORLD_SIZE$|LOCAL_|GROUP_RANK|SLURM_(?!CONF))/.test(k)
    )
      delete env[k];
  }
  const daemons: ChildProcess[] = [];
  const logs = () =>
    [
      `--- munged.log\n${tail(munge.log)}`,
      `--- slurmctld.log\n${tail(join(dir, 'slurmctld.log'))}`,
      `--- slurmd.log\n${tail(join(dir, 'slurmd.log'))}`,
    ].join('\n');
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killSync);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    if (daemons.length >= 2 && !exited(daemons[1])) {
      await run('scancel', ['--user', 'root'], env);
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const q = await run('squeue', ['-h', '-o', '%i'], env);
        if (q.code !== 0 || q.out.trim() === '') break;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    // slurmd first (it ends its step daemons), then the controller, then munge.
    for (const p of [...daemons].reverse()) await stopDaemon(p);
    rmSync(dir, { recursive: true, force: true });
  };
  // If the test process ends without stop() (a timeout, an uncaught error), the daemons must not outlive
  // it: SIGKILL them by pid, synchronously, on the way out.
  const killSync = () => {
    for (const p of daemons)
      if (!exited(p) && p.pid !== undefined)
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {}
  };
  const onSignal = (sig: NodeJS.Signals) => {
    killSync();
    process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
  };
  process.once('exit', killSync);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const start = (cmd: string, args: string[]) => {
    const p = spawn(...asUser(cmd, args), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
    p.once('exit', (code, sig) => {
      if (!stopped) process.stderr.write(`slurm helper: ${cmd} exited early (${sig ?? code}): ${err}\n`);
    });
    daemons.push(p);
    return p;
  };
  try {
    start('/usr/sbin/munged', [
      '--foreground',
      '--force',
      `--key-file=${munge.key}`,
      `--socket=${munge.socket}`,
      `--pid-file=${munge.pid}`,
      `--log-file=${munge.log}`,
      `--seed-file=${munge.seed}`,
    ]);
    await waitFor('munged did not open its socket', async () => existsSync(munge.socket), 20_000, logs);
    const ctld = start('/usr/sbin/slurmctld', ['-D', '-c', '-f', conf]);
    await waitFor(
      'slurmctld did not answer',
      async () => {
        if (exited(ctld)) throw new Error(`slurmctld exited at start\n${logs()}`);
        return (await run('scontrol', ['ping'], env)).out.includes('UP');
      },
      30_000,
      logs,
    );
    const slurmd = start('/usr/sbin/slurmd', ['-D', '-f', conf, '-N', node]);
    await waitFor(
      `node ${node} did not become idle`,
      async () => {
        if (exited(slurmd)) throw new Error(`slurmd exited at start\n${logs()}`);
        return /idle/.test((await run('sinfo', ['-h', '-N', '-o', '%T'], env)).out);
      },
      30_000,
      logs,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, conf, node, env, logs, stop };
}
