/**
 * The launcher's side of the flight recorder: each attempt of a node gets a directory (the user's
 * --dump-on-failure DIR, else a private temporary one) passed to its ranks as TSRUN_FLIGHT_DIR; a rank
 * whose group fails writes rank-<r>.json there, and the root-cause block prints what they wrote.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRecord, type FlightDump } from '../src/flight-record.js';

/** Calls of each rank that the root-cause block prints. */
export const ROOT_CAUSE_CALLS = 5;

export interface FlightDir {
  dir: string;
  /** The dumps found (sorted by rank); removes a private directory afterwards. */
  collect(): FlightDump[];
}

export function openFlightDir(userDir: string | undefined): FlightDir {
  const dir = userDir ?? mkdtempSync(join(tmpdir(), 'tsrun-flight-'));
  // A user's directory may hold dumps of an earlier job or attempt: only newer ones count.
  const since = Date.now() - 1000;
  return {
    dir,
    collect() {
      const dumps = readFlightDumps(dir).filter((d) => d.writtenAt >= since);
      if (!userDir) rmSync(dir, { recursive: true, force: true });
      return dumps;
    },
  };
}

export function readFlightDumps(dir: string): FlightDump[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^rank-\d+\.json$/.test(n));
  } catch {
    return [];
  }
  const dumps: FlightDump[] = [];
  for (const n of names) {
    try {
      dumps.push(JSON.parse(readFileSync(join(dir, n), 'utf8')) as FlightDump);
    } catch {
      // A rank killed while writing leaves only its .tmp file; a damaged file is skipped the same way.
    }
  }
  return dumps.sort((a, b) => a.rank - b.rank);
}

/** Writes dumps received from remote hosts into DIR as rank-<r>.json (write, then rename). */
export function writeFlightDumps(dir: string, dumps: FlightDump[]): void {
  try {
    mkdirSync(dir, { recursive: true });
    for (const d of dumps) {
      const file = join(dir, `rank-${d.rank}.json`);
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(d, null, 1)}\n`);
      renameSync(tmp, file);
    }
  } catch (e) {
    process.stderr.write(`tsrun: could not write the flight records to ${dir}: ${(e as Error).message}\n`);
  }
}

/** The root-cause block's lines for the ranks that recorded their last calls. */
export function formatFlightDumps(dumps: FlightDump[], worldSize?: number): string[] {
  if (dumps.length === 0) return [];
  const lines = ['  last collective calls of each rank that could still report (oldest first):'];
  for (const d of dumps) {
    const calls = d.calls.slice(-ROOT_CAUSE_CALLS);
    lines.push(`    rank ${d.rank} (${d.host}, pid ${d.pid}): ${d.error.split('\n')[0]}`);
    if (calls.length === 0) lines.push('      (no collective calls yet)');
    for (const c of calls) lines.push(`      ${describeRecord(c)}`);
  }
  if (worldSize !== undefined) {
    const seen = new Set(dumps.map((d) => d.rank));
    const silent = Array.from({ length: worldSize }, (_, r) => r).filter((r) => !seen.has(r));
    if (silent.length > 0) {
      lines.push(
        `    no record from rank${silent.length > 1 ? 's' : ''} ${silent.join(', ')} (exited, hung or killed first)`,
      );
    }
  }
  return lines;
}
