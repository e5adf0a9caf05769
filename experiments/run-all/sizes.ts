import { GridOptionError } from './errors.js';

/**
 * Dataset sizes of the grid. The seed named its Friendster subsets by CSV size (`1gb`, ...); the
 * generator is asked for an edge count, so a size maps to bytes and bytes to edges at the seed's
 * line length (two ids of up to 9 digits, a comma and a newline: ~20 bytes an edge). Sizes are
 * therefore approximate; the report shows the real file size next to the label.
 */
export const BYTES_PER_EDGE = 20;

/** Named sizes: `tiny` for CI, `test` for `npm start` (the "~20 MB graph"). */
export const NAMED_SIZES: Readonly<Record<string, number>> = {
  tiny: 1_000_000,
  test: 20_000_000,
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
  let bytes = NAMED_SIZES[key];
  if (bytes === undefined) {
    const m = /^(\d+(?:\.\d+)?)(kb|mb|gb|tb)$/.exec(key);
    if (!m) {
      throw new GridOptionError(
        'sizes',
        `"${name}" is not a size: use ${Object.keys(NAMED_SIZES).join(', ')} or a number with kb/mb/gb/tb (e.g. 1gb)`,
      );
    }
    bytes = Number(m[1]) * UNITS[m[2]!]!;
  }
  if (!/^[a-z0-9.]+$/.test(key))
    throw new GridOptionError('sizes', `"${name}" must be letters, digits or dots`);
  return { name: key, bytes, edges: Math.max(1000, Math.round(bytes / BYTES_PER_EDGE)) };
}
