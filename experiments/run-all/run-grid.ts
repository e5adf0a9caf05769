import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../src/atomic-write.js';
import { shellLine } from '../../src/process/shell-quote.js';
import { ResultFormatError } from '../report/errors.js';
import { type CellInfo, parseCellResult } from '../report/result-types.js';
import type { CellOutcome } from '../report/run-summary.js';
import { cellCommand } from './cell-command.js';
import type { Dataset } from './datasets.js';
import { DatagenError } from './errors.js';
import type { Cell } from './grid.js';
import type { RunOptions } from './options.js';
import { GridProgress } from './progress.js';
import { runChild } from './run-child.js';

/** Inputs per size label (`xray` for the CNN); a missing entry holds the reason it could not be made. */
export type Inputs = Map<string, Dataset | Error>;

const HEARTBEAT_MS = 30_000;

export const resultPaths = (opts: RunOptions, stem: string) => ({
  json: join(opts.resultsDir, 'json', `${stem}.json`),
  running: join(opts.resultsDir, 'json', `.${stem}.running.json`),
  res: join(opts.resultsDir, 'res', `${stem}.txt`),
  log: join(opts.resultsDir, 'logs', `${stem}.log`),
});

/** True when the cell already has a valid result of the same experiment, style and node count. */
async function isDone(cell: Cell, file: string): Promise<boolean> {
  try {
    const r = parseCellResult(JSON.parse(await readFile(file, 'utf8')), file);
    return r.experiment === cell.experiment && r.style === cell.style && r.nodes === cell.nodes;
  } catch {
    return false;
  }
}

async function runCell(
  cell: Cell,
  opts: RunOptions,
  input: Dataset,
  progress: GridProgress,
): Promise<CellOutcome> {
  const paths = resultPaths(opts, cell.stem);
  const script = join(opts.experimentsDir, cell.experiment, `${cell.style}.ts`);
  if (!existsSync(script)) {
    return {
      stem: cell.stem,
      status: 'failed',
      seconds: 0,
      error: `${script} does not exist (not written yet?)`,
    };
  }
  await mkdir(dirname(paths.running), { recursive: true });
  await rm(paths.running, { force: true });
  const { cmd, args } = await cellCommand(cell, opts, input.path, paths.running);
  const t0 = performance.now();
  const heartbeat = setInterval(() => progress.still(cell, (performance.now() - t0) / 1000), HEARTBEAT_MS);
  const run = await runChild(cmd, args, {
    cwd: process.cwd(),
    env: process.env,
    timeoutMs: opts.cellTimeoutSec * 1000,
    logFile: paths.log,
  }).finally(() => clearInterval(heartbeat));
  const fail = async (error: string): Promise<CellOutcome> => {
    await rm(paths.running, { force: true });
    return {
      stem: cell.stem,
      status: 'failed',
      seconds: run.seconds,
      error,
      stderr_tail: run.stderrTail,
      log: paths.log,
    };
  };
  if (run.timedOut) return fail(`timed out after ${opts.cellTimeoutSec}s (--cell-timeout)`);
  if (run.code !== 0) return fail(run.signal ? `killed by ${run.signal}` : `exit code ${run.code}`);
  let result: Record<string, unknown>;
  try {
    const value: unknown = JSON.parse(await readFile(paths.running, 'utf8'));
    parseCellResult(value, paths.running);
    result = value as Record<string, unknown>;
  } catch (err) {
    const why =
      err instanceof ResultFormatError
        ? err.problem
        : `no result JSON written to --out (${(err as Error).message})`;
    return fail(`exited 0 but ${why}`);
  }
  if (result.experiment !== cell.experiment || result.style !== cell.style) {
    return fail(
      `result is ${String(result.experiment)}/${String(result.style)}, expected ${cell.experiment}/${cell.style}`,
    );
  }
  const info: CellInfo = {
    size: cell.size,
    size_bytes: input.bytes,
    nodes: cell.nodes,
    style: cell.style,
    ...(cell.mode ? { mode: cell.mode } : {}),
    dataset: input.path,
    wall_seconds: Number(run.seconds.toFixed(3)),
    finished_at: new Date().toISOString(),
    command: shellLine(cmd, args),
  };
  // The text file first: a JSON result is the "cell done" mark for resume, so it is written last.
  await writeFileAtomic(paths.res, run.stdout);
  await writeFileAtomic(paths.json, `${JSON.stringify({ ...result, cell: info }, null, 1)}\n`);
  await rm(paths.running, { force: true });
  return { stem: cell.stem, status: 'ok', seconds: run.seconds, log: paths.log };
}

/**
 * Runs every cell in order; a cell with a valid result is skipped unless `--force`; a failing cell is
 * recorded and the grid goes on, so one broken experiment never costs the others' results.
 */
export async function runGrid(cells: Cell[], opts: RunOptions, inputs: Inputs): Promise<CellOutcome[]> {
  const progress = new GridProgress(cells);
  const outcomes: CellOutcome[] = [];
  for (const cell of cells) {
    const paths = resultPaths(opts, cell.stem);
    if (!opts.force && (await isDone(cell, paths.json))) {
      progress.skip(cell);
      outcomes.push({ stem: cell.stem, status: 'skipped', seconds: 0, log: paths.log });
      continue;
    }
    progress.start(cell);
    const input = inputs.get(cell.size);
    let outcome: CellOutcome;
    if (input === undefined || input instanceof Error) {
      const why =
        input instanceof DatagenError
          ? input.summary
          : input instanceof Error
            ? input.message
            : `no input prepared for size ${cell.size}`;
      outcome = { stem: cell.stem, status: 'failed', seconds: 0, error: `input missing: ${why}` };
    } else {
      outcome = await runCell(cell, opts, input, progress);
    }
    progress.finish(
      cell,
      outcome.status === 'ok',
      outcome.seconds,
      outcome.error ? `(${outcome.error})` : '',
    );
    outcomes.push(outcome);
  }
  return outcomes;
}
