/**
 * Every tsrun flag in one table: help text, default, torchrun's underscore alias. `tsrun --help` and the
 * README's flag list say the same thing. Parsing stops at the script name, so the script's own flags are
 * passed to it untouched.
 */
import { resolve } from 'node:path';
import yargs from 'yargs';
import { autoProcsPerNode } from './cpu-count.js';
import { UsageError } from './errors.js';

export interface CliOptions {
  script: string;
  scriptArgs: string[];
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr?: string;
  masterPort?: number;
  /** Per-node mode: the job's run id (torchrun's --rdzv-id), folded into the derived secret. */
  rdzvId?: string;
  standalone: boolean;
  hostfile?: string;
  hosts?: string;
  sshOpt: string[];
  remoteCwd?: string;
  remoteNode?: string;
  tagOutput: boolean;
  logDir?: string;
  env: Record<string, string>;
  maxRestarts: number;
  killGraceMs: number;
  /** Task-pool job: rank 0 runs the script as the driver, the other ranks serve as workers. */
  pool: boolean;
  /** `tsrun cluster ...`: the arguments after `cluster` (handled by src/pool/cluster-cli.ts). */
  cluster?: string[];
  /** `tsrun job ...`: the arguments after `job` (handled by launcher/job-cli.ts). */
  job?: string[];
  /** Serve the live dashboard on this port (0 = any free port); see src/dashboard/. */
  dashboardPort?: number;
  /** Address the dashboard binds (default 127.0.0.1; anything else requires the token). */
  dashboardHost?: string;
  /** Directory where each rank writes its flight record (last collective calls) when its group fails. */
  dumpOnFailure?: string;
  /** Write the job's timeline (Chrome Trace Event JSON) to this file. */
  trace?: string;
  /** Internal: this process is the per-host agent started by the SSH launcher. */
  agent: boolean;
  rankOffset?: number;
  worldSize?: number;
}

const USAGE = `tsrun [options] script.ts [script args...]

Runs script.ts as one process per rank, locally, per node (as torchrun) or on every host of a hostfile
over SSH (as mpirun). Each rank gets RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK,
MASTER_ADDR, MASTER_PORT and TSRUN_JOB_SECRET.

Examples:
  tsrun --standalone --nproc-per-node 4 train.ts --epochs 3
  tsrun --nnodes 3 --node-rank 0 --master-addr 10.0.0.1 --master-port 29500 --rdzv-id run7 --nproc-per-node 2 train.ts
  tsrun --hostfile hostfiles/cluster-3node --tag-output train.ts
  tsrun --hosts node1:2,node2:2 -x OMP_NUM_THREADS=1 train.ts
  tsrun --pool --nproc-per-node 3 --dashboard-port 8265 driver.ts     # live dashboard, URL printed at start
  tsrun cluster start --head --workers 2 --dashboard-port 8265        # pool cluster + dashboard
  tsrun job submit -- driver.ts --epochs 3                            # a driver run by the cluster's head`;

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function toArray(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function intFlag(name: string, v: unknown, min: number): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v);
  if (!/^\d+$/.test(s) || Number(s) < min)
    throw new UsageError(`--${name} must be an integer >= ${min}, got '${s}'`);
  return Number(s);
}

/** `-x NAME=VALUE` sets, `-x NAME` forwards tsrun's own value (as mpirun). */
export function parseExports(items: string[], from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const name = eq === -1 ? item : item.slice(0, eq);
    if (!NAME_RE.test(name))
      throw new UsageError(`-x '${item}': '${name}' is not an environment variable name`);
    if (eq !== -1) env[name] = item.slice(eq + 1);
    else if (from[name] !== undefined) env[name] = from[name]!;
    else throw new UsageError(`-x ${name}: ${name} is not set in tsrun's environment; use -x ${name}=VALUE`);
  }
  return env;
}

const BOOLEAN_FLAGS = new Set(['standalone', 'pool', 'tag-output', 'tag_output', 'agent', 'help', 'version']);

/**
 * yargs reads a value that starts with '-' as a flag, so the documented `--ssh-opt '-p 2222'` would be
 * refused as "Unknown argument: p". Before the script, such a value is glued on as `--ssh-opt=-p 2222`.
 */
export function glueDashValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-') || a === '--') return out.concat(argv.slice(i));
    const name = a.replace(/^-+/, '');
    if ((name === 'ssh-opt' || name === 'ssh_opt') && i + 1 < argv.length) {
      out.push(`${a}=${argv[++i]}`);
    } else {
      out.push(a);
      if (
        !a.includes('=') &&
        !BOOLEAN_FLAGS.has(name) &&
        (a.startsWith('--') || a === '-x') &&
        i + 1 < argv.length
      )
        out.push(argv[++i]);
    }
  }
  return out;
}

export function buildParser(argv: string[]) {
  return yargs(glueDashValues(argv))
    .scriptName('tsrun')
    .usage(USAGE)
    .parserConfiguration({ 'halt-at-non-option': true, 'populate--': false, 'camel-case-expansion': true })
    .options({
      'nproc-per-node': {
        alias: 'nproc_per_node',
        type: 'string',
        default: '1',
        describe:
          'ranks on this node (per host with --nnodes); "auto" = the CPUs this process may use (affinity mask, cgroup quota, SLURM_CPUS_ON_NODE)',
      },
      nnodes: { type: 'string', default: '1', describe: 'number of nodes (per-node mode, as torchrun)' },
      'node-rank': {
        alias: 'node_rank',
        type: 'string',
        default: '0',
        describe: "this node's index, 0..nnodes-1; global ranks are node-major",
      },
      'master-addr': {
        alias: 'master_addr',
        type: 'string',
        describe:
          "address of rank 0's host, which serves the rendezvous (default 127.0.0.1; SSH: first host)",
      },
      'master-port': {
        alias: 'master_port',
        type: 'string',
        describe: 'rendezvous port on the master (default: a free port on one node, 29500 with --nnodes > 1)',
      },
      'rdzv-id': {
        alias: 'rdzv_id',
        type: 'string',
        describe:
          "per-node mode: the job's run id, the same on every node and different for every job (torchrun's --rdzv-id; default TSRUN_RDZV_ID); keeps two jobs on the same master address apart",
      },
      standalone: { type: 'boolean', default: false, describe: 'single node on 127.0.0.1 with a free port' },
      hostfile: { type: 'string', describe: 'Open MPI hostfile (host slots=N); start every rank over SSH' },
      hosts: { type: 'string', describe: 'host list a:2,b:2 (host:slots), same as a hostfile' },
      'ssh-opt': {
        alias: 'ssh_opt',
        type: 'string',
        describe: "option for ssh: 'Key=Value' becomes -o Key=Value, '-i KEY' is passed as is (repeatable)",
      },
      'remote-cwd': {
        alias: 'remote_cwd',
        type: 'string',
        describe: "working directory of remote ranks (default: tsrun's cwd)",
      },
      'remote-node': {
        alias: 'remote_node',
        type: 'string',
        describe: "node binary on remote hosts (default: this node's path)",
      },
      pool: {
        type: 'boolean',
        default: false,
        describe:
          'task-pool job: rank 0 serves the pool head and runs script.ts as the driver, the other ranks serve as workers',
      },
      'dashboard-port': {
        alias: 'dashboard_port',
        type: 'string',
        describe:
          'serve the live dashboard (web page + GET /api/state, /api/logs, /api/events) on this port of the launcher; 0 = any free port; works locally, per node and with --hostfile/--hosts (remote agents relay their hosts)',
      },
      'dashboard-host': {
        alias: 'dashboard_host',
        type: 'string',
        describe:
          'address the dashboard binds (default 127.0.0.1); off loopback the printed URL carries a token derived from the job secret',
      },
      bind: {
        type: 'string',
        describe:
          'address the ranks bind their TCP endpoints to (rank 0 also the rendezvous); default: the interface that reaches the master; 0.0.0.0 = every interface (sets TSRUN_BIND_ADDR)',
      },
      'tag-output': {
        alias: 'tag_output',
        type: 'boolean',
        default: false,
        describe: 'prefix every output line with [rank]',
      },
      'log-dir': { alias: 'log_dir', type: 'string', describe: 'also write each rank to DIR/rank-<r>.log' },
      x: {
        type: 'string',
        describe: 'NAME[=VALUE]: pass an environment variable to every rank (repeatable)',
      },
      'max-restarts': {
        alias: 'max_restarts',
        type: 'string',
        default: '0',
        describe: 'restart the whole job after a failure up to N times (TSRUN_RESTART_COUNT counts)',
      },
      'kill-grace-ms': {
        type: 'string',
        default: '5000',
        describe: 'when stopping a job: SIGTERM, then SIGKILL after this many ms',
      },
      'dump-on-failure': {
        alias: 'dump_on_failure',
        type: 'string',
        describe:
          "when a rank's process group fails, each rank that can still run writes its last 32 collective calls to DIR/rank-<r>.json (default: TSRUN_FLIGHT_DIR; on every host with --hostfile)",
      },
      trace: {
        type: 'string',
        describe:
          'write a timeline of the job to FILE.json (Chrome Trace Event JSON: Perfetto, chrome://tracing): a track per rank or worker, a slice per collective and pool task',
      },
      agent: { type: 'boolean', default: false, hidden: true },
      'rank-offset': { type: 'string', hidden: true },
      'world-size': { type: 'string', hidden: true },
    })
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(110)
    .exitProcess(false)
    .fail((msg, err) => {
      throw new UsageError((msg ?? err?.message ?? 'bad arguments') + ' (see tsrun --help)');
    });
}

/** Parses argv; returns undefined when --help was printed. */
export function parseCli(argv: string[]): CliOptions | undefined {
  const a = buildParser(argv).parseSync() as Record<string, unknown> & { _: (string | number)[] };
  if (a.help) return undefined;
  const positional = a._.map(String);
  const [script, ...scriptArgs] = positional;
  if (script === 'cluster') return { cluster: scriptArgs } as unknown as CliOptions;
  if (script === 'job') return { job: scriptArgs } as unknown as CliOptions;
  const dashboardPort = intFlag('dashboard-port', a.dashboardPort, 0);
  if (dashboardPort !== undefined && dashboardPort > 65535)
    throw new UsageError(`--dashboard-port ${dashboardPort} is > 65535`);
  if (a.dashboardHost !== undefined && dashboardPort === undefined)
    throw new UsageError('--dashboard-host needs --dashboard-port');
  if (!script)
    throw new UsageError('missing script: tsrun [options] script.ts [script args...] (see tsrun --help)');

  const nprocText = String(a.nprocPerNode);
  const nprocPerNode = nprocText === 'auto' ? autoProcsPerNode() : intFlag('nproc-per-node', nprocText, 1)!;
  const nnodes = intFlag('nnodes', a.nnodes, 1)!;
  const nodeRank = intFlag('node-rank', a.nodeRank, 0)!;
  if (nodeRank >= nnodes) {
    throw new UsageError(`--node-rank ${nodeRank} is out of range for --nnodes ${nnodes} (0..${nnodes - 1})`);
  }
  const masterPort = intFlag('master-port', a.masterPort, 0);
  if (masterPort !== undefined && masterPort > 65535)
    throw new UsageError(`--master-port ${masterPort} is > 65535`);
  if (a.hostfile !== undefined && a.hosts !== undefined)
    throw new UsageError('give --hostfile or --hosts, not both');
  const ssh = a.hostfile !== undefined || a.hosts !== undefined;
  if (ssh && (nnodes !== 1 || nodeRank !== 0)) {
    throw new UsageError(
      '--nnodes/--node-rank are per-node mode; with --hostfile/--hosts tsrun starts every node',
    );
  }
  if (a.standalone && nnodes !== 1) throw new UsageError('--standalone runs one node; drop --nnodes');
  return {
    script,
    scriptArgs,
    nprocPerNode,
    nnodes,
    nodeRank,
    masterAddr: a.masterAddr as string | undefined,
    masterPort,
    rdzvId: (a.rdzvId as string | undefined) || process.env.TSRUN_RDZV_ID || undefined,
    standalone: Boolean(a.standalone),
    hostfile: a.hostfile as string | undefined,
    hosts: a.hosts as string | undefined,
    sshOpt: toArray(a.sshOpt),
    remoteCwd: a.remoteCwd as string | undefined,
    remoteNode: a.remoteNode as string | undefined,
    tagOutput: Boolean(a.tagOutput),
    logDir: a.logDir as string | undefined,
    env: { ...parseExports(toArray(a.x)), ...(a.bind ? { TSRUN_BIND_ADDR: String(a.bind) } : {}) },
    maxRestarts: intFlag('max-restarts', a.maxRestarts, 0)!,
    killGraceMs: intFlag('kill-grace-ms', a.killGraceMs, 0)!,
    pool: Boolean(a.pool),
    dashboardPort,
    dashboardHost: a.dashboardHost as string | undefined,
    dumpOnFailure: a.dumpOnFailure === undefined ? undefined : resolve(String(a.dumpOnFailure)),
    trace: a.trace === undefined ? undefined : resolve(String(a.trace)),
    agent: Boolean(a.agent),
    rankOffset: intFlag('rank-offset', a.rankOffset, 0),
    worldSize: intFlag('world-size', a.worldSize, 1),
  };
}
