/** Errors of the grid runner; each names the flag, cell or file at fault and what to do. */

/** A flag value the runner cannot use; the CLI prints it and exits with code 2. */
export class GridOptionError extends Error {
  constructor(
    readonly flag: string,
    problem: string,
  ) {
    super(flag ? `--${flag}: ${problem}` : problem);
    this.name = 'GridOptionError';
  }
}

/** A data generator that failed or produced nothing; no cell can run without its input. */
export class DatagenError extends Error {
  /** The first line only, for the cells that lack this input. */
  readonly summary: string;
  constructor(
    readonly target: string,
    reason: string,
    stderrTail = '',
  ) {
    super(`could not generate ${target}: ${reason}${stderrTail ? `\n${stderrTail}` : ''}`);
    this.name = 'DatagenError';
    this.summary = `could not generate ${target}: ${reason}`;
  }
}

/** One grid cell whose child process failed, timed out or wrote no valid result. */
export class CellFailedError extends Error {
  constructor(
    readonly stem: string,
    readonly reason: string,
    readonly stderrTail: string,
    readonly logFile: string,
  ) {
    super(`cell ${stem}: ${reason} (log: ${logFile})${stderrTail ? `\n${stderrTail}` : ''}`);
    this.name = 'CellFailedError';
  }
}
