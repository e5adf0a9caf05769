/** Errors of the pneumonia experiment. */
export class ParamsDivergedError extends Error {
  constructor(epoch: number, step: number, sums: number[]) {
    super(
      `parameters differ between ranks after epoch ${epoch} step ${step} ` +
        `(checksums by rank: ${sums.map((s) => s.toString(16)).join(', ')}); gradients were not averaged identically`,
    );
    this.name = 'ParamsDivergedError';
  }
}
