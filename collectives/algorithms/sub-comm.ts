import type { Comm } from '../comm.js';

/**
 * Runs one step of a composed algorithm on a subset of the call's ranks (see subComm). When the call's
 * Comm can settle (wait for its acknowledgements), the sub-Comm claims complete sends, so the step's
 * algorithm sends the caller's memory without private copies (fresh 64 MiB copies cost more than the
 * network here), and this waits for every receiver before returning, so the next step may write it.
 */
export async function onSubgroup<R>(
  comm: Comm,
  members: readonly number[],
  step: (sub: Comm) => Promise<R>,
): Promise<R> {
  const settle = comm.settle?.bind(comm);
  const result = await step(subComm(comm, members, settle !== undefined));
  if (settle) await settle();
  return result;
}

/**
 * The Comm of a subset of a call's ranks, numbered 0..members.length-1 in the order given. Steps pass
 * through unchanged, so every subset step of one call needs its own phase Comm (GroupCore's `phase(n)`).
 * The inner algorithm's `note` is dropped: the call keeps the name of the algorithm that composed it.
 * Its sends are complete when it returns only if `completeOnReturn` (see sendsCompleteOnReturn below).
 */
export function subComm(comm: Comm, members: readonly number[], completeOnReturn = false): Comm {
  const rank = members.indexOf(comm.rank);
  if (rank < 0) throw new RangeError(`subComm: rank ${comm.rank} is not among ${members.join(', ')}`);
  const { recvInto } = comm;
  return {
    rank,
    size: members.length,
    send: (peer, step, data) => comm.send(members[peer], step, data),
    recv: (peer, step, into) => comm.recv(members[peer], step, into),
    ...(recvInto && { recvInto: (peer, step, dst) => recvInto.call(comm, members[peer], step, dst) }),
    // Not carried over by itself: the sub-group's algorithm returns before the call does (the call waits for
    // the acknowledgements at its end), so a peer may still be receiving what it sent. An algorithm that
    // relied on it would let the next step write memory a zero-copy send is still reading (the hierarchical
    // all-reduce divides its block for 'avg' right after the cross-host step) — unless the step is followed
    // by settle(), which onSubgroup does.
    sendsCompleteOnReturn: completeOnReturn,
    ...(comm.scratch && { scratch: comm.scratch.bind(comm) }),
  };
}
