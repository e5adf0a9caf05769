import type { ExperimentName, Style } from '../report/result-types.js';
import type { DatasetSize } from './sizes.js';

/** One cell of the paper's grid: an experiment run once in one style on one node count. */
export interface Cell {
  experiment: ExperimentName;
  style: Style;
  mode: string | undefined;
  /** Dataset size label; `xray` for the CNN, whose data set has one size. */
  size: string;
  nodes: number;
  /** File name without extension, shared by json/, res/ and logs/. */
  stem: string;
}

export interface GridSpec {
  experiments: ExperimentName[];
  sizes: DatasetSize[];
  ranks: number[];
  styles: Style[];
  kmeansModes: string[];
  pagerankModes: string[];
}

/**
 * The seed wrote `res/kmeans_<size>_<nodes>nodes_<framework>.txt`; tsrun keeps that order with the
 * style for the framework and the mode last: `<experiment>_<size>_<N>nodes_<style>[_<mode>]`.
 */
export function cellStem(c: Omit<Cell, 'stem'>): string {
  return `${c.experiment}_${c.size}_${c.nodes}nodes_${c.style}${c.mode ? `_${c.mode}` : ''}`;
}

/**
 * Every cell, smallest work first within an experiment (sizes ascending, then nodes), so a run that
 * is stopped early has the cheap cells done; the CNN comes last since it is the longest.
 */
export function buildGrid(spec: GridSpec): Cell[] {
  const cells: Cell[] = [];
  const push = (c: Omit<Cell, 'stem'>) => cells.push({ ...c, stem: cellStem(c) });
  const sizes = [...spec.sizes].sort((a, b) => a.bytes - b.bytes);
  for (const experiment of spec.experiments) {
    if (experiment === 'pneumonia') continue;
    const modes = experiment === 'kmeans' ? spec.kmeansModes : spec.pagerankModes;
    for (const size of sizes)
      for (const mode of modes)
        for (const nodes of spec.ranks)
          for (const style of spec.styles) push({ experiment, style, mode, size: size.name, nodes });
  }
  if (spec.experiments.includes('pneumonia')) {
    for (const nodes of spec.ranks)
      for (const style of spec.styles)
        push({ experiment: 'pneumonia', style, mode: undefined, size: 'xray', nodes });
  }
  return cells;
}
