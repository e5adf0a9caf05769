/** The one block tsrun prints when a job fails, and the exit status it derives from the failure. */
import { constants } from 'node:os';
import type { FlightDump } from '../src/flight-record.js';
import { formatFlightDumps } from './flight-dumps.js';

export interface Failure {
  host: string;
  rank: number;
  code: number | null;
  signal: string | null;
  stderrTail: string[];
}

export function describeExit(f: Pick<Failure, 'code' | 'signal'>): string {
  if (f.signal) return `killed by signal ${f.signal}`;
  return `exit code ${f.code}`;
}

export function formatRootCause(
  f: Failure,
  attempts: number,
  flight: FlightDump[] = [],
  worldSize?: number,
): string {
  const lines = [
    'tsrun: job failed' + (attempts > 1 ? ` (after ${attempts} attempts)` : ''),
    '  root cause:',
    `    host:   ${f.host}`,
    `    rank:   ${f.rank}`,
    `    status: ${describeExit(f)}`,
  ];
  if (f.stderrTail.length === 0) lines.push('    stderr: (empty)');
  else {
    lines.push(`    last ${f.stderrTail.length} line(s) of stderr:`);
    for (const l of f.stderrTail) lines.push(`      | ${l}`);
  }
  lines.push(...formatFlightDumps(flight, worldSize));
  return lines.join('\n') + '\n';
}

/** As mpirun: the failed rank's exit code, or 128 + signal number; never 0. */
export function exitStatusFor(f: Pick<Failure, 'code' | 'signal'>): number {
  if (f.signal) {
    const n = constants.signals[f.signal as NodeJS.Signals];
    return 128 + (n ?? 0);
  }
  return f.code && f.code > 0 && f.code < 256 ? f.code : 1;
}
