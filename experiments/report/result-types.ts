import { ResultFormatError } from './errors.js';

export type ExperimentName = 'kmeans' | 'pagerank' | 'pneumonia';
export type Style = 'spmd' | 'pool';

export const EXPERIMENTS: readonly ExperimentName[] = ['kmeans', 'pagerank', 'pneumonia'];
export const STYLES: readonly Style[] = ['spmd', 'pool'];

/**
 * What the grid runner adds to an experiment's JSON under `cell`: where the cell sits in the grid.
 * The experiment's own fields stay untouched beside it.
 */
export interface CellInfo {
  /** Dataset size label as given to `--sizes` (`test`, `1gb`, ...); `xray` for the CNN. */
  size: string;
  /** Bytes of the input on disk (CSV file or image folder), to order sizes on charts. */
  size_bytes: number;
  /** Node count of the cell: ranks (SPMD) or workers (pool). */
  nodes: number;
  style: Style;
  mode?: string;
  dataset: string;
  /** Wall-clock seconds of the whole child process, launcher start-up included. */
  wall_seconds: number;
  finished_at: string;
  command: string;
}

/** One finished cell as the report reads it. */
export interface CellResult {
  file: string;
  experiment: ExperimentName;
  style: Style;
  mode: string | undefined;
  size: string;
  sizeBytes: number;
  nodes: number;
  /** The experiment's own measured seconds (compute, without process start-up). */
  seconds: number;
  wallSeconds: number | undefined;
  calinskiHarabasz: number | undefined;
  iterations: number | undefined;
  losses: number[] | undefined;
  accuracy: number | undefined;
  imagesPerSec: number | undefined;
}

function field(obj: Record<string, unknown>, key: string): unknown {
  return obj[key];
}

function optionalNumber(obj: Record<string, unknown>, key: string, file: string): number | undefined {
  const v = field(obj, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ResultFormatError(file, `"${key}" is not a number`);
  return v;
}

/** Validates one result JSON (an experiment's object plus the runner's `cell`) into a CellResult. */
export function parseCellResult(value: unknown, file: string): CellResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ResultFormatError(file, 'not a JSON object');
  }
  const obj = value as Record<string, unknown>;
  const experiment = field(obj, 'experiment');
  if (!EXPERIMENTS.includes(experiment as ExperimentName)) {
    throw new ResultFormatError(
      file,
      `"experiment" must be one of ${EXPERIMENTS.join(', ')}, got ${JSON.stringify(experiment)}`,
    );
  }
  const style = field(obj, 'style');
  if (!STYLES.includes(style as Style)) {
    throw new ResultFormatError(file, `"style" must be spmd or pool, got ${JSON.stringify(style)}`);
  }
  const seconds = optionalNumber(obj, 'seconds', file);
  if (seconds === undefined) throw new ResultFormatError(file, '"seconds" is missing');
  const cellRaw = field(obj, 'cell');
  const cell = (typeof cellRaw === 'object' && cellRaw !== null ? cellRaw : {}) as Record<string, unknown>;
  const ranks = optionalNumber(obj, 'ranks', file);
  const nodes = optionalNumber(cell, 'nodes', file) ?? ranks;
  if (nodes === undefined) throw new ResultFormatError(file, 'neither "cell.nodes" nor "ranks" is present');
  const size = typeof cell.size === 'string' ? cell.size : experiment === 'pneumonia' ? 'xray' : 'unknown';
  const lossesRaw = field(obj, 'losses');
  let losses: number[] | undefined;
  if (lossesRaw !== undefined) {
    if (!Array.isArray(lossesRaw) || lossesRaw.some((l) => typeof l !== 'number')) {
      throw new ResultFormatError(file, '"losses" must be an array of numbers (one per epoch)');
    }
    losses = lossesRaw as number[];
  }
  const modeRaw = field(obj, 'mode') ?? cell.mode;
  return {
    file,
    experiment: experiment as ExperimentName,
    style: style as Style,
    mode: typeof modeRaw === 'string' ? modeRaw : undefined,
    size,
    sizeBytes: optionalNumber(cell, 'size_bytes', file) ?? 0,
    nodes,
    seconds,
    wallSeconds: optionalNumber(cell, 'wall_seconds', file),
    calinskiHarabasz: optionalNumber(obj, 'calinski_harabasz', file),
    iterations: optionalNumber(obj, 'iterations', file),
    losses,
    accuracy: optionalNumber(obj, 'accuracy', file),
    imagesPerSec: optionalNumber(obj, 'images_per_sec', file),
  };
}
