/** The tsrun wire codec: one framed message format for collectives, rendezvous and the task pool. */
export { allocTyped, bytesOf, bytesPerElement, dtypeName, dtypeOf, typedArrayFor } from './dtype.js';
export {
  CollectiveOp,
  DType,
  Flags,
  MAGIC,
  MessageKind,
  PayloadType,
  PROTOCOL_VERSION,
  RedOp,
  redOpFromName,
  redOpName,
} from './enums.js';
export {
  HeaderRangeError,
  MalformedFrameError,
  OversizeFrameError,
  TruncatedFrameError,
  UnsupportedVersionError,
  WireError,
  WireTypeError,
} from './errors.js';
export {
  DEFAULT_LIMITS,
  type DecodeLimits,
  decodeHeader,
  encodeHeader,
  HEADER_BYTES,
  type Header,
  makeHeader,
} from './header.js';
export { decodeMessage, encodeMessage } from './message.js';
export { decodePayload, type EncodedPayload, encodePayload } from './payload.js';
