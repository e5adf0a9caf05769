import { runLabel } from './chart-specs.js';
import { formatNumber, formatSeconds, sizeLabel } from './format.js';
import type { CellResult } from './result-types.js';

/** A GitHub-flavoured Markdown table; `|` in cells is escaped so a label cannot break the layout. */
export function markdownTable(headers: string[], rows: string[][]): string {
  const esc = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const lines = [`| ${headers.map(esc).join(' | ')} |`, `|${headers.map(() => ' --- |').join('')}`];
  for (const row of rows) lines.push(`| ${row.map(esc).join(' | ')} |`);
  return lines.join('\n');
}

interface GridKey {
  size: string;
  sizeBytes: number;
  nodes: number;
}

/** The size × nodes cells present in `results`, ordered by dataset bytes then node count. */
function gridKeys(results: CellResult[]): GridKey[] {
  const keys = new Map<string, GridKey>();
  for (const r of results)
    keys.set(`${r.size}\0${r.nodes}`, { size: r.size, sizeBytes: r.sizeBytes, nodes: r.nodes });
  return [...keys.values()].sort(
    (a, b) => a.sizeBytes - b.sizeBytes || a.size.localeCompare(b.size) || a.nodes - b.nodes,
  );
}

function find(results: CellResult[], key: GridKey, style: string): CellResult | undefined {
  return results.find((r) => r.size === key.size && r.nodes === key.nodes && r.style === style);
}

/** Execution time per size × nodes, both styles side by side, and their ratio. */
export function timeTable(results: CellResult[]): string {
  const rows = gridKeys(results).map((k) => {
    const spmd = find(results, k, 'spmd');
    const pool = find(results, k, 'pool');
    const ratio = spmd && pool && spmd.seconds > 0 ? (pool.seconds / spmd.seconds).toFixed(2) : '–';
    return [
      sizeLabel(k.size, k.sizeBytes),
      String(k.nodes),
      formatSeconds(spmd?.seconds),
      formatSeconds(pool?.seconds),
      ratio,
      formatSeconds(spmd?.wallSeconds),
      formatSeconds(pool?.wallSeconds),
    ];
  });
  return markdownTable(
    [
      'dataset size',
      'nodes',
      'spmd time (s)',
      'pool time (s)',
      'pool / spmd',
      'spmd wall (s)',
      'pool wall (s)',
    ],
    rows,
  );
}

/** Calinski–Harabasz score per size × nodes × style (k-means). */
export function calinskiTable(results: CellResult[]): string {
  const rows = gridKeys(results).map((k) => [
    sizeLabel(k.size, k.sizeBytes),
    String(k.nodes),
    formatNumber(find(results, k, 'spmd')?.calinskiHarabasz, 6),
    formatNumber(find(results, k, 'pool')?.calinskiHarabasz, 6),
  ]);
  return markdownTable(['dataset size', 'nodes', 'spmd Calinski–Harabasz', 'pool Calinski–Harabasz'], rows);
}

function sortedRuns(results: CellResult[]): CellResult[] {
  return [...results].sort((a, b) => a.style.localeCompare(b.style) || a.nodes - b.nodes);
}

/** Training loss per epoch, one row per CNN run. */
export function lossTable(results: CellResult[]): string {
  const runs = sortedRuns(results);
  const epochs = Math.max(0, ...runs.map((r) => r.losses?.length ?? 0));
  const headers = ['run (style · nodes)', ...Array.from({ length: epochs }, (_, i) => `epoch ${i + 1}`)];
  const rows = runs.map((r) => [
    runLabel(r),
    ...Array.from({ length: epochs }, (_, i) => formatNumber(r.losses?.[i], 4)),
  ]);
  return markdownTable(headers, rows);
}

/** Test accuracy, throughput and time of each CNN run. */
export function accuracyTable(results: CellResult[]): string {
  const rows = sortedRuns(results).map((r) => [
    r.style,
    String(r.nodes),
    r.accuracy === undefined ? '–' : `${(r.accuracy * 100).toFixed(1)} %`,
    formatNumber(r.imagesPerSec, 4),
    formatSeconds(r.seconds),
  ]);
  return markdownTable(['style', 'nodes', 'test accuracy', 'images / s', 'training time (s)'], rows);
}
