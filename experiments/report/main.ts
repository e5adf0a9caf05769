/**
 * Redraws the charts and REPORT.md from the JSON results of an earlier run, without running anything:
 *   npx tsx experiments/report/main.ts [--results DIR]
 */
import { resolve } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { buildReport } from './build-report.js';

const argv = await yargs(hideBin(process.argv))
  .scriptName('report')
  .option('results', { type: 'string', default: 'results', describe: 'results directory of a run-all run' })
  .strict()
  .help()
  .parse();

const out = await buildReport(resolve(argv.results));
process.stderr.write(`report: ${out.results} results, ${out.charts.length} charts -> ${out.reportFile}\n`);
if (out.invalid > 0)
  process.stderr.write(`report: ${out.invalid} result files were invalid (listed in the report)\n`);
