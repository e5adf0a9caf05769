/** Errors of the report builder; each names the file and what to do about it. */

/** A result JSON that does not follow the experiments' contract (docs/ARCHITECTURE.md, "Experiments"). */
export class ResultFormatError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(
      `${file}: ${problem} (see docs/ARCHITECTURE.md "Experiments" for the result shape; delete the file to rerun its cell)`,
    );
    this.name = 'ResultFormatError';
  }
}

/** A chart that vega could not compile or render, or sharp could not rasterise. */
export class ChartRenderError extends Error {
  constructor(
    readonly chart: string,
    cause: unknown,
  ) {
    super(`chart ${chart}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ChartRenderError';
  }
}
