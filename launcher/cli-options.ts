/**
 * tsrun's command line: the flags of launcher/cli-flags.ts, then the script and its arguments. `tsrun
 * --help` and the README's flag list say the same thing. Parsing stops at the script name, so the script's
 * own flags are passed to it untouched.
 */
import yargs from 'yargs';
import { TRANSPORT_ENV } from '../src/transport/transport-config.js';
import { type FlagValues, flagValues, SWITCHES, yargsOptions } from './cli-flags.js';
import { UsageError } from './errors.js';

export { parseExports } from './cli-flags.js';

/** A parsed command line: the script, its arguments and every flag of FLAGS (launcher/cli-flags.ts). */
export type CliOptions = Omit<FlagValues, 'x' | 'bind'> & {
  script: string;
  scriptArgs: string[];
  /** `-x` and `--bind`: variables every rank gets. */
  env: Record<string, string>;
  /** `tsrun cluster ...`: the arguments after `cluster` (handled by launcher/cluster-cli.ts). */
  cluster?: string[];
  /** `tsrun job ...`: the arguments after `job` (handled by launcher/job-cli.ts). */
  job?: string[];
};

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
        !SWITCHES.has(name) &&
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
    .options(yargsOptions())
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
  if (a.dashboardHost !== undefined && a.dashboardPort === undefined)
    throw new UsageError('--dashboard-host needs --dashboard-port');
  if (!script)
    throw new UsageError('missing script: tsrun [options] script.ts [script args...] (see tsrun --help)');
  const { x, bind, ...flags } = flagValues(a);
  const { nnodes, nodeRank } = flags;
  if (nodeRank >= nnodes) {
    throw new UsageError(`--node-rank ${nodeRank} is out of range for --nnodes ${nnodes} (0..${nnodes - 1})`);
  }
  if (flags.hostfile !== undefined && flags.hosts !== undefined)
    throw new UsageError('give --hostfile or --hosts, not both');
  const ssh = flags.hostfile !== undefined || flags.hosts !== undefined;
  if (ssh && (nnodes !== 1 || nodeRank !== 0)) {
    throw new UsageError(
      '--nnodes/--node-rank are per-node mode; with --hostfile/--hosts tsrun starts every node',
    );
  }
  if (flags.standalone && nnodes !== 1) throw new UsageError('--standalone runs one node; drop --nnodes');
  return {
    ...flags,
    script,
    scriptArgs,
    env: { ...x, ...(bind ? { [TRANSPORT_ENV.bindAddress.name]: bind } : {}) },
  };
}
