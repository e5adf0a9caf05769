/**
 * `tsrun job submit|status|logs|stop|list`: jobs on a persistent cluster (`tsrun cluster start --head`),
 * like `ray job`. The head runs each submitted script as a driver on its own host and keeps its output;
 * see src/pool/jobs/job-manager.ts. Every request goes over the head's authenticated socket.
 */
import path from 'node:path';
import yargs from 'yargs';
import { JobClient } from '../src/pool/jobs/job-client.js';
import { describeState, isTerminal, type JobInfo } from '../src/pool/jobs/job-types.js';
import { addressOf, ClusterUsageError, needSecret } from './cluster-cli.js';

const COMMANDS = ['submit', 'status', 'logs', 'stop', 'list'];
const FOLLOW_POLL_MS = 250;

const USAGE =
  'tsrun job submit [--address HOST:PORT] [--working-dir DIR] [--env K=V ...] -- script.ts [args]\n' +
  'tsrun job status ID\n' +
  'tsrun job logs ID [--follow]\n' +
  'tsrun job stop ID\n' +
  'tsrun job list\n\n' +
  "Jobs on a persistent cluster: the head runs the script as a driver on its own host (connect() there attaches to the cluster), keeps its output, and runs it on after this terminal closes. Every command takes --address HOST:PORT (default TSRUN_POOL_ADDRESS or this host's cluster) and needs the cluster secret (TSRUN_POOL_SECRET or the head's secret file).";

function parse(argv: string[], submit: boolean) {
  return (
    yargs(argv)
      .scriptName('tsrun job')
      .usage(USAGE)
      .parserConfiguration({ 'halt-at-non-option': submit, 'populate--': true })
      // submit: the script's own flags after its name are the script's (as with tsrun script.ts).
      .options({
        address: {
          type: 'string',
          describe: 'HOST:PORT of the head (default TSRUN_POOL_ADDRESS or this host’s cluster)',
        },
        'working-dir': {
          type: 'string',
          describe:
            "submit: directory on the head's host the driver runs in, and the script is found from (default: this shell's directory)",
        },
        env: {
          type: 'string',
          array: true,
          describe: 'submit: K=V added to the driver’s environment (repeatable)',
        },
        follow: {
          type: 'boolean',
          default: false,
          describe: 'logs: keep printing output until the job ends',
        },
      })
      .strictOptions()
      .help()
      .version(false)
      .wrap(110)
      .exitProcess(false)
      .fail((msg, err) => {
        throw new ClusterUsageError(`${msg ?? err?.message ?? 'bad arguments'} (see tsrun job --help)`);
      })
      .parseSync()
  );
}

function parseEnv(pairs: string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of pairs ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p.slice(0, eq)))
      throw new ClusterUsageError(`--env ${p} is not NAME=VALUE`);
    env[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return env;
}

function oneId(rest: string[], cmd: string): string {
  if (rest.length !== 1) throw new ClusterUsageError(`tsrun job ${cmd} takes one job id, got ${rest.length}`);
  return rest[0];
}

function line(j: JobInfo): string {
  const ended = j.endedAt ? `  ended ${j.endedAt}` : '';
  return `${j.id}  ${describeState(j)}  ${j.entrypoint.join(' ')}  (submitted ${j.submittedAt}${ended})`;
}

async function printLogs(c: JobClient, id: string, follow: boolean): Promise<void> {
  let offset = 0;
  for (;;) {
    const { job, data, next } = await c.logs(id, offset);
    if (data.byteLength > 0) {
      await new Promise<void>((r) => process.stdout.write(data, () => r()));
      offset = next;
      continue; // more may be waiting already
    }
    // The state came with this (empty) read and was taken before it: a final state means no more output.
    if (!follow || isTerminal(job.state)) return;
    await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
  }
}

export async function runJobCommand(argv: string[]): Promise<number> {
  try {
    const [cmd, ...rest] = argv;
    if (cmd === undefined || cmd === '--help' || cmd === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return cmd === undefined ? 2 : 0;
    }
    if (!COMMANDS.includes(cmd))
      throw new ClusterUsageError(`unknown job command '${cmd}' (submit, status, logs, stop or list)`);
    const a = parse(rest, cmd === 'submit');
    if (a.help) return 0;
    const positional = [...a._.map(String), ...((a['--'] as string[] | undefined) ?? []).map(String)];
    if (cmd !== 'submit' && (a.workingDir !== undefined || a.env !== undefined))
      throw new ClusterUsageError('--working-dir and --env belong to tsrun job submit');
    if (cmd !== 'logs' && a.follow) throw new ClusterUsageError('--follow belongs to tsrun job logs');
    const address = addressOf(a);
    const client = await JobClient.open(address, needSecret());
    try {
      switch (cmd) {
        case 'submit': {
          const [script, ...args] = positional;
          if (!script) throw new ClusterUsageError('tsrun job submit needs a script: -- script.ts [args]');
          const job = await client.submit({
            script,
            args,
            workingDir: path.resolve(a.workingDir ?? process.cwd()),
            env: parseEnv(a.env as string[] | undefined),
          });
          process.stdout.write(`${job.id}\n`);
          process.stderr.write(
            `tsrun job: submitted ${job.id} to ${address}; \`tsrun job logs ${job.id} --follow\` shows its output\n`,
          );
          return 0;
        }
        case 'status':
          process.stdout.write(`${describeState(await client.status(oneId(positional, cmd)))}\n`);
          return 0;
        case 'logs':
          await printLogs(client, oneId(positional, cmd), a.follow);
          return 0;
        case 'stop': {
          const job = await client.stop(oneId(positional, cmd));
          process.stdout.write(`${job.id} ${describeState(job)}\n`);
          return 0;
        }
        default: {
          if (positional.length > 0) throw new ClusterUsageError('tsrun job list takes no arguments');
          const jobs = await client.list();
          process.stdout.write(jobs.length === 0 ? '(no jobs)\n' : `${jobs.map(line).join('\n')}\n`);
          return 0;
        }
      }
    } finally {
      client.close();
    }
  } catch (e) {
    process.stderr.write(`tsrun job: error: ${(e as Error).message}\n`);
    return e instanceof ClusterUsageError ? 2 : 1;
  }
}
