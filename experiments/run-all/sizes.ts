import { GridOptionError } from './errors.js';

/**
 * Dataset sizes of the grid. The seed named its Friendster subsets by CSV size; the named sizes here
 * carry the same edge counts as experiments/datagen/graph.ts `--size` (the seed's files), so a cell
 * named `1gb` runs on a graph of the paper's `1gb` file. Other sizes (`500mb`) convert bytes to edges
 * at that generator's line length (~15 bytes an edge); the report shows the real file size anyway.
 */
export const BYTES_PER_EDGE = 15;

/** Named sizes in edges: `tiny` for CI, then the paper's files (`test` is what `npm start` uses). */
export const NAMED_SIZES: Readonly<Record<string, number>> = {
  tiny: 20_000,
  test: 650_000,
  '1gb': 66_800_000,
  '2.65gb': 177_000_000,
  '10.5gb': 701_400_000,
};

const UNITS: Readonly<Record<string, number>> = { kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12 };

export interface DatasetSize {
  /** The label as given (`test`, `1gb`), used in file names and on charts. */
  name: string;
  bytes: number;
  edges: number;
}

/** Parses one `--sizes` entry: a named size or a number with kb/mb/gb/tb (`500mb`, `1.5gb`). */
export function parseSize(name: string): DatasetSize {
  const key = name.trim().toLowerCase();
  const named = NAMED_SIZES[key];
  if (named !== undefined) return { name: key, bytes: named * BYTES_PER_EDGE, edges: named };
  const m = /^(\d+(?:\.\d+)?)(kb|mb|gb|tb)$/.exec(key);
  if (!m) {
    throw new GridOptionError(
      'sizes',
      `"${name}" is not a size: use ${Object.keys(NAMED_SIZES).join(', ')} or a number with kb/mb/gb/tb (e.g. 500mb)`,
    );
  }
  const bytes = Number(m[1]) * UNITS[m[2]!]!;
  return { name: key, bytes, edges: Math.max(1000, Math.round(bytes / BYTES_PER_EDGE)) };
}
