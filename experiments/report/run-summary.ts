import { readFile } from 'node:fs/promises';

/** What the grid runner records about its last run in `results/run-summary.json`. */
export interface CellOutcome {
  stem: string;
  status: 'ok' | 'skipped' | 'failed';
  seconds: number;
  /** For failed cells: exit code or signal and the last lines of the child's stderr. */
  error?: string;
  /** Last lines of the child's stderr when it failed. */
  stderr_tail?: string;
  log?: string;
}

export interface RunSummary {
  started_at: string;
  finished_at: string;
  argv: string[];
  machine: string;
  cells: CellOutcome[];
}

export async function loadRunSummary(file: string): Promise<RunSummary | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as RunSummary;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
