/**
 * Every error the wire codec throws. The decoder promises callers (transport receive loops) that bad
 * input from the network only ever surfaces as one of these classes, so a loop can catch WireError,
 * drop or abort the peer, and keep running.
 */
import { TsrunError } from '../errors.js';

export class WireError extends TsrunError {
  constructor(message: string, code = 'ERR_WIRE') {
    super(message, { code });
    this.name = new.target.name;
  }
}

/** The header frame is shorter than 64 bytes, or the payload frames hold fewer bytes than announced. */
export class TruncatedFrameError extends WireError {
  constructor(message: string) {
    super(message, 'ERR_WIRE_TRUNCATED');
  }
}

/** A length field announces more bytes than the receiver accepts; raised before anything is allocated. */
export class OversizeFrameError extends WireError {
  constructor(message: string) {
    super(message, 'ERR_WIRE_OVERSIZE');
  }
}

/** The peer speaks another protocol version (usually a mixed tsrun install across hosts). */
export class UnsupportedVersionError extends WireError {
  readonly received: number;
  readonly supported: number;
  constructor(received: number, supported: number) {
    super(
      `frame header: protocol version ${received} received, this tsrun supports version ${supported} ` +
        '(run the same tsrun version on every host)',
      'ERR_WIRE_VERSION',
    );
    this.received = received;
    this.supported = supported;
  }
}

/** A header or payload that violates the format: bad magic, unknown enum value, inconsistent lengths. */
export class MalformedFrameError extends WireError {
  constructor(message: string) {
    super(message, 'ERR_WIRE_MALFORMED');
  }
}

/** A header field given to encodeHeader/makeHeader is not an integer in its field's range. */
export class HeaderRangeError extends WireError {
  constructor(message: string) {
    super(message, 'ERR_WIRE_RANGE');
  }
}

/** encodePayload/dtypeOf was given a value of a type the wire cannot carry. */
export class WireTypeError extends WireError {
  constructor(message: string) {
    super(message, 'ERR_WIRE_TYPE');
  }
}
