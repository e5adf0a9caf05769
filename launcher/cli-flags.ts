/**
 * Every tsrun flag, each defined once (as torchrun's argparse with `action=env`): its spellings, default,
 * help text, environment twin and the parser that gives its value in `CliOptions`. The yargs options, the
 * boolean flags, `CliOptions` itself and the mapping from yargs' result all come from this table, so a new
 * flag is one entry here (and a line in the README's flag list).
 */
import { resolve } from 'node:path';
import type { Options } from 'yargs';
import { autoProcsPerNode } from './cpu-count.js';
import { UsageError } from './errors.js';

/** What a parser gets: the text of a value flag, true/false of a switch, every value of a repeatable one. */
type Raw = string | boolean | string[] | undefined;

export interface Flag<T> {
  /** torchrun's underscore spelling (`--nproc_per_node`), where it has one. */
  alias?: string;
  /** `switch`: takes no value; `list`: repeatable, every value kept; `value`: one value. */
  kind: 'value' | 'switch' | 'list';
  /** yargs' default, as the user would type it (so `--help` shows it and the parser checks it alike). */
  default?: string | boolean;
  /** `--help` text; a flag without one is internal and hidden. */
  describe?: string;
  /** Read when the flag is not given (or given empty): the environment twin. */
  env?: string;
  /** The flag's value in CliOptions; `name` is the flag's spelling for error messages. */
  parse: (raw: Raw, name: string, env: NodeJS.ProcessEnv) => T;
}

const flag = <T>(f: Flag<T>): Flag<T> => f;

const text = (raw: Raw): string | undefined => (raw === undefined ? undefined : String(raw));
const on = (raw: Raw): boolean => Boolean(raw);
const list = (raw: Raw): string[] =>
  raw === undefined ? [] : (Array.isArray(raw) ? raw : [raw]).map(String);
const path = (raw: Raw): string | undefined => (raw === undefined ? undefined : resolve(String(raw)));

/** An integer >= min, or undefined when the flag is absent and has no default. */
function intAtLeast(min: number, max = Number.POSITIVE_INFINITY) {
  return (raw: Raw, name: string): number | undefined => {
    if (raw === undefined) return undefined;
    const s = String(raw);
    if (!/^\d+$/.test(s) || Number(s) < min)
      throw new UsageError(`--${name} must be an integer >= ${min}, got '${s}'`);
    if (Number(s) > max) throw new UsageError(`--${name} ${s} is > ${max}`);
    return Number(s);
  };
}

/** For flags with a default: the value is always there. */
function required<T>(parse: (raw: Raw, name: string) => T | undefined) {
  return (raw: Raw, name: string): T => parse(raw, name)!;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

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

/** The table, in `--help` order. The key is the flag's dashed spelling; its field is its camelCase. */
export const FLAGS = {
  'nproc-per-node': flag({
    alias: 'nproc_per_node',
    kind: 'value',
    default: '1',
    describe:
      'ranks on this node (per host with --nnodes); "auto" = the CPUs this process may use (affinity mask, cgroup quota, SLURM_CPUS_ON_NODE)',
    parse: (raw, name) => (raw === 'auto' ? autoProcsPerNode() : required(intAtLeast(1))(raw, name)),
  }),
  nnodes: flag({
    kind: 'value',
    default: '1',
    describe: 'number of nodes (per-node mode, as torchrun)',
    parse: required(intAtLeast(1)),
  }),
  'node-rank': flag({
    alias: 'node_rank',
    kind: 'value',
    default: '0',
    describe: "this node's index, 0..nnodes-1; global ranks are node-major",
    parse: required(intAtLeast(0)),
  }),
  'master-addr': flag({
    alias: 'master_addr',
    kind: 'value',
    describe: "address of rank 0's host, which serves the rendezvous (default 127.0.0.1; SSH: first host)",
    parse: text,
  }),
  'master-port': flag({
    alias: 'master_port',
    kind: 'value',
    describe: 'rendezvous port on the master (default: a free port on one node, 29500 with --nnodes > 1)',
    parse: intAtLeast(0, 65535),
  }),
  'rdzv-id': flag({
    alias: 'rdzv_id',
    kind: 'value',
    env: 'TSRUN_RDZV_ID',
    describe:
      "per-node mode: the job's run id, the same on every node and different for every job (torchrun's --rdzv-id; default TSRUN_RDZV_ID); keeps two jobs on the same master address apart",
    parse: text,
  }),
  standalone: flag({
    kind: 'switch',
    default: false,
    describe: 'single node on 127.0.0.1 with a free port',
    parse: on,
  }),
  hostfile: flag({
    kind: 'value',
    describe: 'Open MPI hostfile (host slots=N); start every rank over SSH',
    parse: text,
  }),
  hosts: flag({ kind: 'value', describe: 'host list a:2,b:2 (host:slots), same as a hostfile', parse: text }),
  'ssh-opt': flag({
    alias: 'ssh_opt',
    kind: 'list',
    describe: "option for ssh: 'Key=Value' becomes -o Key=Value, '-i KEY' is passed as is (repeatable)",
    parse: list,
  }),
  'remote-cwd': flag({
    alias: 'remote_cwd',
    kind: 'value',
    describe: "working directory of remote ranks (default: tsrun's cwd)",
    parse: text,
  }),
  'remote-node': flag({
    alias: 'remote_node',
    kind: 'value',
    describe: "node binary on remote hosts (default: this node's path)",
    parse: text,
  }),
  pool: flag({
    kind: 'switch',
    default: false,
    describe:
      'task-pool job: rank 0 serves the pool head and runs script.ts as the driver, the other ranks serve as workers',
    parse: on,
  }),
  'dashboard-port': flag({
    alias: 'dashboard_port',
    kind: 'value',
    describe:
      'serve the live dashboard (web page + GET /api/state, /api/logs, /api/events) on this port of the launcher; 0 = any free port; works locally, per node and with --hostfile/--hosts (remote agents relay their hosts)',
    parse: intAtLeast(0, 65535),
  }),
  'dashboard-host': flag({
    alias: 'dashboard_host',
    kind: 'value',
    describe:
      'address the dashboard binds (default 127.0.0.1); off loopback the printed URL carries a token derived from the job secret',
    parse: text,
  }),
  bind: flag({
    kind: 'value',
    describe:
      'address the ranks bind their TCP endpoints to (rank 0 also the rendezvous); default: the interface that reaches the master; 0.0.0.0 = every interface (sets TSRUN_BIND_ADDR)',
    parse: text,
  }),
  'tag-output': flag({
    alias: 'tag_output',
    kind: 'switch',
    default: false,
    describe: 'prefix every output line with [rank]',
    parse: on,
  }),
  'log-dir': flag({
    alias: 'log_dir',
    kind: 'value',
    describe: 'also write each rank to DIR/rank-<r>.log',
    parse: text,
  }),
  x: flag({
    kind: 'list',
    describe: 'NAME[=VALUE]: pass an environment variable to every rank (repeatable)',
    parse: (raw, _name, env) => parseExports(list(raw), env),
  }),
  'max-restarts': flag({
    alias: 'max_restarts',
    kind: 'value',
    default: '0',
    describe: 'restart the whole job after a failure up to N times (TSRUN_RESTART_COUNT counts)',
    parse: required(intAtLeast(0)),
  }),
  'kill-grace-ms': flag({
    kind: 'value',
    default: '5000',
    describe: 'when stopping a job: SIGTERM, then SIGKILL after this many ms',
    parse: required(intAtLeast(0)),
  }),
  'dump-on-failure': flag({
    alias: 'dump_on_failure',
    kind: 'value',
    env: 'TSRUN_FLIGHT_DIR',
    describe:
      "when a rank's process group fails, each rank that can still run writes its last 32 collective calls to DIR/rank-<r>.json (default: TSRUN_FLIGHT_DIR; on every host with --hostfile)",
    parse: path,
  }),
  trace: flag({
    kind: 'value',
    describe:
      'write a timeline of the job to FILE.json (Chrome Trace Event JSON: Perfetto, chrome://tracing): a track per rank or worker, a slice per collective and pool task',
    parse: path,
  }),
  /** Internal: this process is the per-host agent started by the SSH launcher. */
  agent: flag({ kind: 'switch', default: false, parse: on }),
  'rank-offset': flag({ kind: 'value', parse: intAtLeast(0) }),
  'world-size': flag({ kind: 'value', parse: intAtLeast(1) }),
} as const;

type Flags = typeof FLAGS;
type Camel<S extends string> = S extends `${infer A}-${infer B}` ? `${A}${Capitalize<Camel<B>>}` : S;
type ValueOf<K extends keyof Flags> = ReturnType<Flags[K]['parse']>;

/** The flags' values: a flag whose parser may give undefined is an optional field. */
export type FlagValues = {
  [K in keyof Flags as undefined extends ValueOf<K> ? never : Camel<K>]: ValueOf<K>;
} & {
  [K in keyof Flags as undefined extends ValueOf<K> ? Camel<K> : never]?: Exclude<ValueOf<K>, undefined>;
};

export function camelName(flagName: string): string {
  return flagName.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Spellings of the flags that take no value (yargs must not swallow the next word after them). */
export const SWITCHES: ReadonlySet<string> = new Set([
  ...Object.entries(FLAGS as Record<string, Flag<unknown>>)
    .filter(([, f]) => f.kind === 'switch')
    .flatMap(([name, f]) => [name, ...(f.alias ? [f.alias] : [])]),
  'help',
  'version',
]);

/** The yargs option table of FLAGS. */
export function yargsOptions(): Record<string, Options> {
  const out: Record<string, Options> = {};
  for (const [name, f] of Object.entries(FLAGS as Record<string, Flag<unknown>>)) {
    out[name] = {
      ...(f.alias && { alias: f.alias }),
      type: f.kind === 'switch' ? 'boolean' : 'string',
      ...(f.default !== undefined && { default: f.default }),
      ...(f.describe === undefined ? { hidden: true } : { describe: f.describe }),
    };
  }
  return out;
}

/** Each flag's value from yargs' parse result (camelCase keys), its environment twin filling in. */
export function flagValues(
  parsed: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): FlagValues {
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(FLAGS as Record<string, Flag<unknown>>)) {
    let raw = parsed[camelName(name)] as Raw;
    if (f.env !== undefined) raw = raw || env[f.env] || undefined;
    const value = f.parse(raw, name, env);
    if (value !== undefined) out[camelName(name)] = value;
  }
  return out as FlagValues;
}
