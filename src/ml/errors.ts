/** Errors of the tfjs glue; each message says what to change. */

import { TsrunError } from '../errors.js';

export class BackendUnavailableError extends TsrunError {
  constructor(backend: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      `tfjs backend '${backend}' could not be loaded (${why}); pass --backend auto, wasm or cpu ` +
        `(tfjs-node is an optional dependency that needs libtensorflow)`,
    );
    this.name = 'BackendUnavailableError';
  }
}

export class UnsupportedConvError extends TsrunError {
  constructor(kernel: string, detail: string) {
    super(`${kernel} on wasm is provided by tsrun for stride 1 and dilation 1 only; got ${detail}`);
    this.name = 'UnsupportedConvError';
  }
}
