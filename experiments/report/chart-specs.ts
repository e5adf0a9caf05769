import type { TopLevelSpec } from 'vega-lite';
import { experimentTitle, sizeLabel, styleLabel } from './format.js';
import type { CellResult, ExperimentName } from './result-types.js';

/** One figure of the paper: a file name and the vega-lite spec drawn from the results. */
export interface FigureSpec {
  name: string;
  title: string;
  spec: TopLevelSpec;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const STYLE_DOMAIN = [styleLabel('spmd'), styleLabel('pool')];

// Large fonts and a white background so the PNG reads at a glance in a README or a slide.
const CONFIG = {
  background: 'white',
  font: 'sans-serif',
  title: { fontSize: 16, anchor: 'start' as const },
  axis: { labelFontSize: 12, titleFontSize: 13, labelAngle: 0 },
  legend: { labelFontSize: 12, titleFontSize: 13, labelLimit: 300 },
  header: { labelFontSize: 13, titleFontSize: 13 },
};

const styleColor = {
  field: 'style',
  type: 'nominal' as const,
  title: 'style',
  scale: { domain: STYLE_DOMAIN },
};

interface TimeRow {
  size: string;
  sizeOrder: number;
  nodes: number;
  nodesLabel: string;
  style: string;
  seconds: number;
}

function timeRows(results: CellResult[]): TimeRow[] {
  return results.map((r) => ({
    size: sizeLabel(r.size, r.sizeBytes),
    sizeOrder: r.sizeBytes,
    nodes: r.nodes,
    nodesLabel: `${r.nodes} node${r.nodes === 1 ? '' : 's'}`,
    style: styleLabel(r.style),
    seconds: r.seconds,
  }));
}

function sortedSizes(rows: TimeRow[]): string[] {
  const order = new Map<string, number>();
  for (const r of rows) order.set(r.size, r.sizeOrder);
  return [...order.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).map(([s]) => s);
}

/** Execution time vs node count, one panel per dataset size, both styles on each panel. */
export function timeVsNodes(results: CellResult[], experiment: ExperimentName, mode?: string): FigureSpec {
  const rows = timeRows(results);
  const title = `${experimentTitle(experiment, mode)}: execution time vs node count`;
  return {
    name: `${experiment}${mode ? `-${mode}` : ''}-time-vs-nodes`,
    title,
    spec: {
      $schema: SCHEMA,
      title,
      config: CONFIG,
      data: { values: rows },
      facet: { column: { field: 'size', type: 'ordinal', title: 'dataset size', sort: sortedSizes(rows) } },
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 280,
        height: 220,
        mark: { type: 'line', point: { size: 70 }, strokeWidth: 2.5 },
        encoding: {
          x: { field: 'nodes', type: 'ordinal', title: 'nodes (ranks or workers)' },
          y: { field: 'seconds', type: 'quantitative', title: 'execution time (s)', scale: { zero: true } },
          color: styleColor,
        },
      },
    },
  };
}

/** Execution time vs dataset size, one panel per node count. */
export function timeVsSize(results: CellResult[], experiment: ExperimentName, mode?: string): FigureSpec {
  const rows = timeRows(results);
  const title = `${experimentTitle(experiment, mode)}: execution time vs dataset size`;
  const nodeOrder = [...new Set(rows.map((r) => r.nodes))]
    .sort((a, b) => a - b)
    .map((n) => `${n} node${n === 1 ? '' : 's'}`);
  return {
    name: `${experiment}${mode ? `-${mode}` : ''}-time-vs-size`,
    title,
    spec: {
      $schema: SCHEMA,
      title,
      config: CONFIG,
      data: { values: rows },
      facet: { column: { field: 'nodesLabel', type: 'ordinal', title: 'node count', sort: nodeOrder } },
      spec: {
        width: 280,
        height: 220,
        mark: { type: 'line', point: { size: 70 }, strokeWidth: 2.5 },
        encoding: {
          x: { field: 'size', type: 'ordinal', title: 'dataset size (CSV bytes)', sort: sortedSizes(rows) },
          y: { field: 'seconds', type: 'quantitative', title: 'execution time (s)', scale: { zero: true } },
          color: styleColor,
        },
      },
    },
  };
}

/** CNN training time vs node count (no dataset sizes: the X-ray set is one size). */
export function cnnTimeVsNodes(results: CellResult[]): FigureSpec {
  const title = 'Pneumonia CNN: training time vs node count';
  return {
    name: 'pneumonia-time-vs-nodes',
    title,
    spec: {
      $schema: SCHEMA,
      title,
      config: CONFIG,
      width: 380,
      height: 250,
      data: { values: timeRows(results) },
      mark: { type: 'line', point: { size: 70 }, strokeWidth: 2.5 },
      encoding: {
        x: { field: 'nodes', type: 'ordinal', title: 'nodes (ranks or workers)' },
        y: { field: 'seconds', type: 'quantitative', title: 'training time (s)', scale: { zero: true } },
        color: styleColor,
      },
    },
  };
}

export function runLabel(r: CellResult): string {
  return `${r.style} · ${r.nodes} node${r.nodes === 1 ? '' : 's'}`;
}

/** Test accuracy of each CNN run, one bar per style × node count. */
export function accuracyPerRun(results: CellResult[]): FigureSpec {
  const title = 'Pneumonia CNN: test accuracy per run';
  const rows = results
    .filter((r) => r.accuracy !== undefined)
    .sort((a, b) => a.style.localeCompare(b.style) || a.nodes - b.nodes)
    .map((r) => ({ run: runLabel(r), style: styleLabel(r.style), accuracy: r.accuracy }));
  return {
    name: 'pneumonia-accuracy',
    title,
    spec: {
      $schema: SCHEMA,
      title,
      config: CONFIG,
      width: 380,
      height: 250,
      data: { values: rows },
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'run', type: 'nominal', title: 'run (style · nodes)', sort: rows.map((r) => r.run) },
        y: {
          field: 'accuracy',
          type: 'quantitative',
          title: 'test accuracy (fraction correct)',
          scale: { domain: [0, 1] },
          axis: { format: '.0%' },
        },
        color: styleColor,
      },
    },
  };
}

/** Training loss per epoch, one line per run. */
export function lossPerEpoch(results: CellResult[]): FigureSpec {
  const title = 'Pneumonia CNN: training loss per epoch';
  const rows = results.flatMap((r) =>
    (r.losses ?? []).map((loss, i) => ({ run: runLabel(r), epoch: i + 1, loss, style: styleLabel(r.style) })),
  );
  return {
    name: 'pneumonia-loss',
    title,
    spec: {
      $schema: SCHEMA,
      title,
      config: CONFIG,
      width: 380,
      height: 250,
      data: { values: rows },
      mark: { type: 'line', point: { size: 50 }, strokeWidth: 2 },
      encoding: {
        x: { field: 'epoch', type: 'ordinal', title: 'epoch' },
        y: { field: 'loss', type: 'quantitative', title: 'training loss (cross-entropy)' },
        color: { field: 'run', type: 'nominal', title: 'run (style · nodes)' },
      },
    },
  };
}
