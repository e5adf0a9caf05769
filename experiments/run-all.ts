/**
 * The main job: runs the paper's study (k-means, PageRank, the pneumonia CNN; SPMD and pool style;
 * dataset sizes × node counts), then draws its charts and writes results/REPORT.md.
 *
 *   npm start                                           # this machine, small data, < 10 minutes
 *   npx tsx experiments/run-all.ts --quick              # CI smoke run, ~2 minutes
 *   npx tsx experiments/run-all.ts --sizes test,1gb --ranks 1,2,3 \
 *       --experiments kmeans,pagerank,pneumonia [--hostfile F]   # the paper's grid
 *
 * Resumable: a cell with a result in results/json/ is not rerun (`--force` reruns). Every cell writes
 * results/json/<experiment>_<size>_<N>nodes_<style>[_<mode>].json and the paper's text under
 * results/res/ with the same name; `--help` lists every flag.
 */
import { join, relative } from 'node:path';
import { hideBin } from 'yargs/helpers';
import { writeFileAtomic } from '../src/atomic-write.js';
import { buildReport } from './report/build-report.js';
import type { RunSummary } from './report/run-summary.js';
import { type Dataset, ensureGraph, ensureXray } from './run-all/datasets.js';
import { CellFailedError, GridOptionError } from './run-all/errors.js';
import { buildGrid } from './run-all/grid.js';
import { machineDescription } from './run-all/machine.js';
import { parseRunOptions } from './run-all/options.js';
import { runPeers } from './run-all/peers.js';
import { formatDuration } from './run-all/progress.js';
import { stopAllChildren } from './run-all/run-child.js';
import { type Inputs, runGrid } from './run-all/run-grid.js';

const FAILURES_IN_FULL = 3;

const say = (s: string) => process.stderr.write(`[run-all] ${s}\n`);

async function main(): Promise<number> {
  let opts: ReturnType<typeof parseRunOptions>;
  try {
    opts = parseRunOptions(hideBin(process.argv));
  } catch (err) {
    if (err instanceof GridOptionError) {
      process.stderr.write(`run-all: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const startedAt = new Date();
  const cells = buildGrid(opts.grid);
  const where = relative(process.cwd(), opts.resultsDir) || '.';
  say(
    `${cells.length} cells (${opts.grid.experiments.join(', ')} × sizes ${opts.grid.sizes.map((s) => s.name).join(', ')} × nodes ${opts.grid.ranks.join(', ')} × ${opts.grid.styles.join(', ')}) -> ${where}/`,
  );
  process.once('SIGINT', () => {
    say('interrupted: stopping the running cell; finished cells are kept and skipped on the next run');
    stopAllChildren();
    process.exit(130);
  });

  const inputs: Inputs = new Map();
  const graphs = new Map<string, Dataset>();
  if (opts.grid.experiments.some((e) => e !== 'pneumonia')) {
    for (const size of opts.grid.sizes) {
      try {
        const d = await ensureGraph(opts, size);
        inputs.set(size.name, d);
        graphs.set(size.name, d);
      } catch (err) {
        say(`${(err as Error).message}`);
        inputs.set(size.name, err as Error);
      }
    }
  }
  if (opts.grid.experiments.includes('pneumonia')) {
    try {
      inputs.set('xray', await ensureXray(opts));
    } catch (err) {
      say(`${(err as Error).message}`);
      inputs.set('xray', err as Error);
    }
  }

  const outcomes = await runGrid(cells, opts, inputs);
  const summary: RunSummary = {
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    argv: process.argv.slice(2),
    machine: machineDescription(),
    cells: outcomes,
  };
  await writeFileAtomic(join(opts.resultsDir, 'run-summary.json'), `${JSON.stringify(summary, null, 1)}\n`);

  await runPeers(opts, opts.peersDir, graphs);

  if (opts.report) {
    const report = await buildReport(opts.resultsDir);
    say(
      `report: ${relative(process.cwd(), report.reportFile)} (${report.charts.length} charts in ${where}/charts/)`,
    );
  }
  const failed = outcomes.filter((o) => o.status === 'failed');
  const ran = outcomes.filter((o) => o.status === 'ok').length;
  const skipped = outcomes.filter((o) => o.status === 'skipped').length;
  say(
    `done in ${formatDuration((Date.now() - startedAt.getTime()) / 1000)}: ${ran} ran, ${skipped} skipped, ${failed.length} failed; results in ${where}/`,
  );
  // Full detail for the first few failures; a long list of the same cause would bury the summary.
  for (const [i, f] of failed.entries()) {
    if (i < FAILURES_IN_FULL) {
      const e = new CellFailedError(f.stem, f.error ?? 'failed', f.stderr_tail ?? '', f.log ?? '-');
      process.stderr.write(`\n${e.message}\n`);
    } else {
      process.stderr.write(`${i === FAILURES_IN_FULL ? '\n' : ''}cell ${f.stem}: ${f.error ?? 'failed'}\n`);
    }
  }
  if (failed.length > 0) say(`${failed.length} cells failed; rerun the same command to retry only those`);
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main();
