/**
 * tsrun — run one TypeScript program as many ranks (see `tsrun --help` and README "Launcher").
 * Mode by flags: --hostfile/--hosts → SSH launch of every host; --agent → the per-host agent the SSH
 * launcher starts; otherwise local / per-node mode.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { packageModulePath } from '../src/process/package-files.js';
import { parseCli } from './cli-options.js';
import { UsageError } from './errors.js';

// Each mode's module is imported when that mode runs: under the TypeScript loader every module costs
// start-up time, and the cluster commands alone (the pool, ZeroMQ) took 0.33 s to import, paid by
// every local job before its ranks started.

const POOL_ENTRY = packageModulePath(import.meta.url, '../src/pool/pool-rank-entry.ts');

export async function main(argv: string[]): Promise<number> {
  try {
    const o = parseCli(argv);
    if (!o) return 0;
    if (o.cluster) return await (await import('./cluster-cli.js')).runClusterCommand(o.cluster);
    if (o.job) return await (await import('./job-cli.js')).runJobCommand(o.job);
    if (o.agent) return await (await import('./agent.js')).runAgent(o);
    const ssh = o.hostfile !== undefined || o.hosts !== undefined;
    // Remote ranks may run elsewhere (--remote-cwd); only a local path can be checked here.
    if (!(ssh && o.remoteCwd) && !existsSync(resolve(o.script))) {
      throw new UsageError(`script not found: ${o.script} (looked in ${process.cwd()})`);
    }
    // A pool job runs the pool entry on every rank; it runs the script as the driver on rank 0.
    const job = o.pool ? { ...o, script: POOL_ENTRY, scriptArgs: [resolve(o.script), ...o.scriptArgs] } : o;
    if (ssh) return await (await import('./ssh-launcher.js')).runSshMode(job);
    return await (await import('./local-mode.js')).runLocalMode(job);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`tsrun: error: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

// Let stdout/stderr drain before leaving; process.exit() could cut off the ranks' last output.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (err) => {
    process.stderr.write(`tsrun: internal error: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
