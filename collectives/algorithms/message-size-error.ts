/**
 * Raised when a received message does not have the size the algorithm computed for it: the ranks passed
 * different lengths, counts or dtypes to the same collective call.
 */
import { TsrunError } from '../../src/errors.js';

export class MessageSizeError extends TsrunError {
  override readonly name = 'MessageSizeError';
  constructor(
    readonly algorithm: string,
    readonly rank: number,
    readonly peer: number,
    readonly step: number,
    readonly expectedBytes: number,
    readonly actualBytes: number,
  ) {
    super(
      `${algorithm}: rank ${rank} expected ${expectedBytes} bytes from rank ${peer} at step ${step} ` +
        `but got ${actualBytes}; every rank must pass the same dtype, length and counts to this collective`,
    );
  }
}
