/**
 * `--nproc-per-node auto`: how many CPUs this process may really use. The machine's core count is the
 * wrong answer inside a container with a CPU quota, under `taskset`, or in a Slurm allocation.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

export interface CpuLimits {
  /** os.availableParallelism(): the CPUs of the affinity mask (libuv reads sched_getaffinity). */
  affinity: number;
  /** cgroup quota, in CPUs (quota / period, possibly fractional); undefined = unlimited or unknown. */
  quota?: number;
  /** SLURM_CPUS_ON_NODE inside an allocation. */
  slurmCpusOnNode?: number;
}

/** The fewest CPUs any limit allows, at least 1; a fractional quota rounds up (1.5 CPUs run 2 ranks). */
export function usableCpus(l: CpuLimits): number {
  let n = l.affinity;
  if (l.quota !== undefined && l.quota > 0) n = Math.min(n, Math.ceil(l.quota));
  if (l.slurmCpusOnNode !== undefined && l.slurmCpusOnNode > 0) n = Math.min(n, l.slurmCpusOnNode);
  return Math.max(1, Math.floor(n));
}

/** cgroup v2 `cpu.max`: "max 100000" (no limit) or "200000 100000" (2 CPUs). */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === 'max') return undefined;
  const q = Number(quota);
  const p = Number(period ?? 100000);
  return q > 0 && p > 0 ? q / p : undefined;
}

/** cgroup v1 `cpu.cfs_quota_us` (-1 = no limit) over `cpu.cfs_period_us`. */
export function parseCfsQuota(quotaText: string, periodText: string): number | undefined {
  const q = Number(quotaText.trim());
  const p = Number(periodText.trim());
  return q > 0 && p > 0 ? q / p : undefined;
}

/** The cgroup paths of /proc/self/cgroup: the v2 path ("0::/a/b") and the v1 cpu controller's. */
export function parseProcCgroup(text: string): { v2?: string; v1Cpu?: string } {
  const out: { v2?: string; v1Cpu?: string } = {};
  for (const line of text.split('\n')) {
    const [id, controllers, path] = line.split(':');
    if (path === undefined) continue;
    if (id === '0' && controllers === '') out.v2 = path;
    else if (controllers.split(',').includes('cpu')) out.v1Cpu = path;
  }
  return out;
}

/** The tightest value over a cgroup and its ancestors (a parent's quota binds its children too). */
function tightestUp(
  root: string,
  path: string,
  read: (dir: string) => number | undefined,
): number | undefined {
  let best: number | undefined;
  const parts = path.split('/').filter(Boolean);
  for (let i = parts.length; i >= 0; i--) {
    const v = read(join(root, ...parts.slice(0, i)));
    if (v !== undefined && (best === undefined || v < best)) best = v;
  }
  return best;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** This process's cgroup CPU quota (v2, else v1), in CPUs; undefined when there is none. */
export function cgroupCpuQuota(fsRoot = '/'): number | undefined {
  const self = readText(join(fsRoot, 'proc/self/cgroup'));
  if (!self) return undefined;
  const { v2, v1Cpu } = parseProcCgroup(self);
  const cg = join(fsRoot, 'sys/fs/cgroup');
  if (v2 !== undefined && readText(join(cg, 'cgroup.controllers')) !== undefined) {
    const q = tightestUp(cg, v2, (dir) => {
      const t = readText(join(dir, 'cpu.max'));
      return t === undefined ? undefined : parseCpuMax(t);
    });
    if (q !== undefined) return q;
  }
  if (v1Cpu !== undefined) {
    for (const mount of ['cpu', 'cpu,cpuacct', 'cpuacct,cpu']) {
      const q = tightestUp(join(cg, mount), v1Cpu, (dir) => {
        const quota = readText(join(dir, 'cpu.cfs_quota_us'));
        const period = readText(join(dir, 'cpu.cfs_period_us'));
        return quota === undefined || period === undefined ? undefined : parseCfsQuota(quota, period);
      });
      if (q !== undefined) return q;
    }
  }
  return undefined;
}

/** The CPUs this process may use: affinity mask, cgroup quota and SLURM_CPUS_ON_NODE, whichever is least. */
export function autoProcsPerNode(env: NodeJS.ProcessEnv = process.env): number {
  const slurm = Number(env.SLURM_CPUS_ON_NODE);
  return usableCpus({
    affinity: availableParallelism(),
    quota: cgroupCpuQuota(),
    slurmCpusOnNode: Number.isInteger(slurm) && slurm > 0 ? slurm : undefined,
  });
}
