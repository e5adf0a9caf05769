import type { Comm } from '../comm.js';

/**
 * The Comm of a subset of a call's ranks, numbered 0..members.length-1 in the order given. Steps pass
 * through unchanged, so every subset step of one call needs its own phase Comm (GroupCore's `phase(n)`).
 * The inner algorithm's `note` is dropped: the call keeps the name of the algorithm that composed it.
 * Its sends are not complete when it returns (see sendsCompleteOnReturn below).
 */
export function subComm(comm: Comm, members: readonly number[]): Comm {
  const rank = members.indexOf(comm.rank);
  if (rank < 0) throw new RangeError(`subComm: rank ${comm.rank} is not among ${members.join(', ')}`);
  const { recvInto } = comm;
  return {
    rank,
    size: members.length,
    send: (peer, step, data) => comm.send(members[peer], step, data),
    recv: (peer, step, into) => comm.recv(members[peer], step, into),
    ...(recvInto && { recvInto: (peer, step, dst) => recvInto.call(comm, members[peer], step, dst) }),
    // Never carried over: the sub-group's algorithm returns before the call does (the call waits for the
    // acknowledgements at its end), so a peer may still be receiving what it sent. An algorithm that relied
    // on it would let the next step write memory a zero-copy send is still reading (the hierarchical
    // all-reduce divides its block for 'avg' right after the cross-host step).
    sendsCompleteOnReturn: false,
    ...(comm.scratch && { scratch: comm.scratch.bind(comm) }),
  };
}
