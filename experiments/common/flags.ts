/**
 * Flags shared by every experiment script (docs/ARCHITECTURE.md "Experiments"): `--input`, `--out`, `--workers`.
 * Each script adds its own options to the returned yargs instance and calls `.parseSync()`.
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';

export interface CommonFlags {
  input: string;
  out: string | undefined;
  workers: number | undefined;
}

/** A yargs parser with the common flags; `script` names the experiment in `--help` and errors. */
export function experimentCli(script: string, argv: string[] = hideBin(process.argv)): Argv<CommonFlags> {
  return yargs(argv)
    .scriptName(script)
    .strict()
    .option('input', { type: 'string', demandOption: true, describe: 'input file or directory' })
    .option('out', {
      type: 'string',
      describe: 'write the result as one JSON object to this file (atomically)',
    })
    .option('workers', {
      type: 'number',
      describe: 'pool.ts with the embedded pool: number of worker processes (default: one per core)',
    })
    .check((a) => {
      if (a.workers !== undefined && (!Number.isInteger(a.workers) || a.workers < 1)) {
        throw new Error(`--workers must be a positive integer, got ${a.workers}`);
      }
      return true;
    })
    .help() as unknown as Argv<CommonFlags>;
}

/** Throws a user-facing error unless `value` is a finite number > 0 (or >= 0 with allowZero). */
export function requirePositive(flag: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new UsageError(
      `--${flag} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`,
    );
  }
  return value;
}

/** A bad flag value or combination; scripts print its message and exit with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
