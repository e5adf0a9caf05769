/** Errors of the PageRank experiment, each naming the file and what to do about it. */

/** The input holds no edges at all (only a header, or nothing). */
export class EmptyGraphError extends Error {
  override name = 'EmptyGraphError';
  constructor(readonly file: string) {
    super(`${file}: no edges (the file is empty or holds only a header); PageRank needs at least one edge`);
  }
}

/** The input is not an edge list: not exactly two id columns. */
export class EdgeListError extends Error {
  override name = 'EdgeListError';
}
