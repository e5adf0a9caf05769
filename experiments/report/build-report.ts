import { cpus } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/atomic-write.js';
import {
  accuracyPerRun,
  cnnTimeVsNodes,
  type FigureSpec,
  lossPerEpoch,
  timeVsNodes,
  timeVsSize,
} from './chart-specs.js';
import { experimentTitle } from './format.js';
import { loadResults } from './load-results.js';
import { loadPeerRecords, peerTable } from './peer-table.js';
import { type RenderedChart, renderChart } from './render-chart.js';
import type { CellResult, ExperimentName } from './result-types.js';
import { loadRunSummary } from './run-summary.js';
import { accuracyTable, calinskiTable, lossTable, markdownTable, timeTable } from './tables.js';

export interface ReportFiles {
  reportFile: string;
  charts: RenderedChart[];
  results: number;
  invalid: number;
}

/** Modes present for an experiment, the paper's own mode first. */
function modesOf(results: CellResult[], experiment: ExperimentName): (string | undefined)[] {
  const modes = [...new Set(results.filter((r) => r.experiment === experiment).map((r) => r.mode))];
  return modes.sort((a, b) => (a === 'paper' ? -1 : b === 'paper' ? 1 : String(a).localeCompare(String(b))));
}

function image(chart: RenderedChart, title: string): string {
  return `![${title}](charts/${chart.name}.png)\n\n([SVG](charts/${chart.name}.svg))`;
}

/**
 * Draws every figure of the paper from `<resultsDir>/json/*.json` into `<resultsDir>/charts/` (PNG and
 * SVG) and writes `<resultsDir>/REPORT.md` with the charts embedded and the tables.
 */
export async function buildReport(resultsDir: string): Promise<ReportFiles> {
  const { results, invalid } = await loadResults(join(resultsDir, 'json'));
  const peers = await loadPeerRecords(join(resultsDir, 'peers'));
  const summary = await loadRunSummary(join(resultsDir, 'run-summary.json'));
  const chartsDir = join(resultsDir, 'charts');
  const charts: RenderedChart[] = [];
  const draw = async (fig: FigureSpec) => {
    const c = await renderChart(fig.spec, chartsDir, fig.name);
    charts.push(c);
    return image(c, fig.title);
  };

  const md: string[] = [
    '# Ray style vs PyTorch style: results',
    '',
    `Generated ${new Date().toISOString()} from ${results.length} cell results in \`json/\`` +
      ` on ${summary?.machine ?? `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`}.`,
    '**spmd** is the PyTorch style (collectives under the `tsrun` launcher), **pool** the Ray style' +
      ' (task pool). *Execution time* is the time the experiment measured itself; *wall* adds process' +
      ' and launcher start-up. Figures come from a shared, noisy machine: read trends, not digits.',
    '',
  ];

  for (const experiment of ['kmeans', 'pagerank'] as const) {
    const own = results.filter((r) => r.experiment === experiment);
    if (own.length === 0) continue;
    md.push(`## ${experimentTitle(experiment, undefined)}`, '');
    for (const mode of modesOf(results, experiment)) {
      const rs = own.filter((r) => r.mode === mode);
      md.push(`### ${experimentTitle(experiment, mode)}`, '');
      md.push(await draw(timeVsNodes(rs, experiment, mode)), '');
      md.push(await draw(timeVsSize(rs, experiment, mode)), '');
      md.push('Execution time:', '', timeTable(rs), '');
      if (experiment === 'kmeans')
        md.push('Calinski–Harabasz score (higher is better):', '', calinskiTable(rs), '');
    }
  }

  const cnn = results.filter((r) => r.experiment === 'pneumonia');
  if (cnn.length > 0) {
    md.push('## Pneumonia CNN', '');
    md.push(await draw(cnnTimeVsNodes(cnn)), '');
    if (cnn.some((r) => r.accuracy !== undefined)) md.push(await draw(accuracyPerRun(cnn)), '');
    if (cnn.some((r) => (r.losses?.length ?? 0) > 0)) {
      md.push(await draw(lossPerEpoch(cnn)), '', 'Training loss per epoch:', '', lossTable(cnn), '');
    }
    md.push('Accuracy and throughput:', '', accuracyTable(cnn), '');
  }

  const peersMd = peerTable(results, peers);
  if (peersMd) {
    md.push('## Peers measured in the same run', '');
    md.push(
      'Python peers from `bench/peers/` (Dask + scikit-learn for k-means, scipy for PageRank, torch CPU',
    );
    md.push(
      'for the CNN), on the same inputs. Ratios below 1 (times) or above 1 (throughput) favour tsrun.',
      '',
    );
    md.push(peersMd, '');
  }

  const failed = summary?.cells.filter((c) => c.status === 'failed') ?? [];
  if (failed.length > 0 || invalid.length > 0) {
    md.push('## Cells without a result', '');
    const rows = failed.map((c) => [c.stem, c.error ?? 'failed', c.log ?? '']);
    for (const e of invalid) rows.push([e.file, e.problem, '']);
    md.push(markdownTable(['cell', 'problem', 'log'], rows), '');
  }

  md.push('## Files', '');
  md.push(
    "- `json/<experiment>_<size>_<N>nodes_<style>[_<mode>].json`: one result per cell (the experiment's",
  );
  md.push('  JSON plus a `cell` object: size, bytes, nodes, wall time, command).');
  md.push(
    "- `res/<same name>.txt`: the paper's text result, as the seed wrote `res/kmeans_<size>_<N>nodes_<framework>.txt`.",
  );
  md.push("- `logs/<same name>.log`: the child's stderr; `charts/*.png|svg`: the figures above.");
  md.push('');

  const reportFile = join(resultsDir, 'REPORT.md');
  await writeFileAtomic(reportFile, md.join('\n'));
  return { reportFile, charts, results: results.length, invalid: invalid.length };
}
