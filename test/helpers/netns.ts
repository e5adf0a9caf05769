/**
 * Real hosts on one machine for the SSH launcher tests (docs/ARCHITECTURE.md "Multi-host tests on one machine"):
 * one network namespace per host with its own address on a private bridge, and a real /usr/sbin/sshd in
 * each, with a throwaway host key and client key. Everything is created here and removed by teardown().
 * Addresses are 10.231.<n>.0/24 with <n> taken from the pid, so parallel test files do not collide.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NetnsCluster {
  namespaces: string[];
  /** Each namespace's end of its veth link (the host's "NIC"), e.g. for `tc` shaping. */
  interfaces: string[];
  addrs: string[];
  /** Values for tsrun --ssh-opt. */
  sshOpts: string[];
  keyDir: string;
  /** Pids of every process inside namespace i except its sshd. */
  pidsIn(i: number): number[];
  teardown(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';

/** Why multi-host tests cannot run here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  if (!existsSync(SSHD)) return `${SSHD} is missing (apt-get install openssh-server)`;
  for (const tool of ['ip', 'ssh', 'ssh-keygen']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is missing (apt-get install iproute2 openssh-client)`;
    }
  }
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch (err) {
    return `ip netns does not work here: ${(err as Error).message}`;
  }
  return undefined;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd on ${host}:${port} did not come up`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

export async function createNetnsCluster(hosts: number): Promise<NetnsCluster> {
  const id = process.pid % 100000;
  const subnet = `10.231.${(process.pid % 250) + 1}`;
  const bridge = `tsbr${id}`;
  const namespaces = Array.from({ length: hosts }, (_, i) => `tsrun-t${process.pid}-${i}`);
  const addrs = namespaces.map((_, i) => `${subnet}.${i + 1}`);
  const keyDir = mkdtempSync(join(tmpdir(), 'tsrun-ssh-'));
  const sshds: ChildProcess[] = [];

  const teardown = async () => {
    for (const p of sshds) p.kill('SIGTERM');
    await Promise.all(sshds.map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : 0)));
    for (const ns of namespaces) {
      // Anything left in the namespace (a test that failed midway) goes with it.
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
          .split(/\s+/)
          .filter(Boolean);
        for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
      } catch {}
      try {
        ip('netns', 'del', ns);
      } catch {}
    }
    try {
      ip('link', 'del', bridge);
    } catch {}
    rmSync(keyDir, { recursive: true, force: true });
  };

  try {
    execFileSync('mkdir', ['-p', '/run/sshd']);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keyDir, 'host_key')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keyDir, 'id')]);
    execFileSync('cp', [join(keyDir, 'id.pub'), join(keyDir, 'authorized_keys')]);
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${subnet}.254/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    namespaces.forEach((ns, i) => {
      const hostEnd = `tv${id}h${i}`;
      const nsEnd = `tv${id}n${i}`;
      ip('netns', 'add', ns);
      ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', nsEnd);
      ip('link', 'set', hostEnd, 'master', bridge);
      ip('link', 'set', hostEnd, 'up');
      ip('link', 'set', nsEnd, 'netns', ns);
      ip('-n', ns, 'addr', 'add', `${addrs[i]}/24`, 'dev', nsEnd);
      ip('-n', ns, 'link', 'set', nsEnd, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      const config = join(keyDir, `sshd_config_${i}`);
      writeFileSync(
        config,
        [
          `ListenAddress ${addrs[i]}`,
          'Port 22',
          `HostKey ${join(keyDir, 'host_key')}`,
          `AuthorizedKeysFile ${join(keyDir, 'authorized_keys')}`,
          `PidFile ${join(keyDir, `sshd_${i}.pid`)}`,
          'PermitRootLogin prohibit-password',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          'StrictModes no',
          'MaxStartups 100',
          'MaxSessions 100',
          'LogLevel ERROR',
          '',
        ].join('\n'),
      );
      const sshd = spawn('ip', ['netns', 'exec', ns, SSHD, '-D', '-e', '-f', config], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      sshd.stderr!.on('data', () => {});
      sshds.push(sshd);
    });
    await Promise.all(addrs.map((a) => waitForPort(a, 22, 10_000)));
  } catch (err) {
    await teardown();
    throw err;
  }

  return {
    namespaces,
    interfaces: namespaces.map((_, i) => `tv${id}n${i}`),
    addrs,
    keyDir,
    sshOpts: [
      `-i ${join(keyDir, 'id')}`,
      'UserKnownHostsFile=/dev/null',
      'StrictHostKeyChecking=no',
      'LogLevel=ERROR',
    ],
    pidsIn(i) {
      const out = execFileSync('ip', ['netns', 'pids', namespaces[i]], { encoding: 'utf8' });
      const sshdPid = sshds[i].pid;
      return out
        .split(/\s+/)
        .filter(Boolean)
        .map(Number)
        .filter((pid) => pid !== sshdPid && !isSshdProcess(pid));
    },
    teardown,
  };
}

/** sshd's per-connection children are sshd too; only the job's own processes count. */
function isSshdProcess(pid: number): boolean {
  try {
    const cmd = execFileSync('cat', [`/proc/${pid}/comm`], { encoding: 'utf8' }).trim();
    return cmd === 'sshd' || cmd.startsWith('sshd-');
  } catch {
    return true; // already gone
  }
}

/**
 * Limits each host's outgoing rate to `rate` (tc's units, e.g. `1gbit`): a token bucket on the namespace's
 * end of its veth link, as a NIC of that speed would. Removed with the namespaces.
 */
export function shapeLinks(cluster: Pick<NetnsCluster, 'namespaces' | 'interfaces'>, rate: string): void {
  cluster.namespaces.forEach((ns, i) => {
    execFileSync('ip', [
      'netns',
      'exec',
      ns,
      'tc',
      'qdisc',
      'replace',
      'dev',
      cluster.interfaces[i],
      'root',
      'tbf',
      'rate',
      rate,
      'burst',
      '1mb',
      'latency',
      '100ms',
    ]);
  });
}
