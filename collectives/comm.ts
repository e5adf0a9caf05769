/**
 * The point-to-point view one collective call has of its group. Every algorithm file in collectives/
 * is written against this interface only, so it can be unit-tested over an in-memory Comm and run
 * over the ZeroMQ transport unchanged.
 *
 * Invariants the process group guarantees:
 * - `step` labels a message within one collective call; (source, destination, step) is unique per call.
 *   Messages of different calls never mix (the group adds the call's sequence number and fingerprint).
 * - `send` resolves once the transport has taken the bytes. Sends are zero-copy: the caller must not
 *   modify `data` afterwards unless it has a causal proof that the peer already received it (e.g. the
 *   peer's reply to it arrived). Copy (`data.slice()`) when in doubt.
 * - `recv` resolves with a buffer the caller owns (it may keep it, return views of it, or write into it).
 *   Its byteOffset is a multiple of 8, so any typed-array view of it is aligned.
 */
export interface Comm {
  readonly rank: number;
  readonly size: number;
  send(peer: number, step: number, data: Uint8Array): Promise<void>;
  /**
   * With `into`, the transport may deliver a message of exactly its length straight into it (when the
   * message has not started arriving yet); the result is then `into` itself, else another buffer. For
   * messages whose length the receiver can only guess (recvInto needs it exactly).
   */
  recv(peer: number, step: number, into?: Uint8Array): Promise<Uint8Array>;
  /**
   * Receives the message straight into `dst` (its length must equal the message's), saving the copy
   * from a receive buffer. Optional: algorithms fall back to recv + copy.
   */
  recvInto?(peer: number, step: number, dst: Uint8Array): Promise<void>;
  /**
   * True when the call does not return before every peer has received what it was sent (the process
   * group acknowledges large payloads). Then an algorithm needs a private copy only of memory it will
   * itself modify later in the same call — never to protect the caller's buffers after return.
   */
  readonly sendsCompleteOnReturn?: boolean;
  /**
   * Resolves once every peer has received everything this call sent so far (the group's acknowledgements),
   * so a later phase of the call may write memory an earlier phase sent zero-copy. Optional.
   */
  settle?(): Promise<void>;
  /**
   * The host index of every rank of the group (equal numbers = same host), for topology-aware algorithms.
   * Missing when the group has one host or topology-aware selection is off.
   */
  readonly hosts?: readonly number[];
  /** Records which algorithm the call chose (select.ts), for the flight recorder and the timeline. */
  note?(algorithm: string): void;
  /**
   * A buffer of `bytes` that is the algorithm's until the call returns (then the group reuses it for later
   * calls, so it must not be part of the result). Optional: algorithms allocate when it is missing.
   */
  scratch?(bytes: number): Uint8Array;
}
