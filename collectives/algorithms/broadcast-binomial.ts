/**
 * Broadcast down a binomial tree rooted at `root` (ceil(log2 p) rounds), for small messages. In place:
 * every rank passes an array of the same dtype and length and non-roots receive into it.
 */

import type { TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { checkRoot } from './check-root.js';
import { copyInto, ctorOf, mod, recvIntoView, sendableBytes, viewAs } from './typed-views.js';

const ALGORITHM = 'broadcast-binomial';

export async function broadcastBinomial<T extends TypedArray>(comm: Comm, x: T, root: number): Promise<T> {
  const { rank, size } = comm;
  checkRoot(comm, root, ALGORITHM);
  if (size === 1) return x;
  const relative = mod(rank - root, size);
  let payload: Uint8Array | undefined;
  let mask = 1;
  if (relative === 0) {
    // Leaves never answer, so without delivery-before-return the root would have to send a private copy.
    payload = sendableBytes(comm, x);
    while (mask < size) mask <<= 1;
  } else {
    while (mask < size) {
      if (relative & mask) {
        const parent = mod(relative - mask + root, size);
        if (comm.sendsCompleteOnReturn) {
          // Received straight into x and forwarded from there: x is not written again in this call.
          payload = await recvIntoView(comm, parent, 0, x, ALGORITHM);
        } else {
          const buf = await comm.recv(parent, 0);
          copyInto(
            x,
            0,
            viewAs<T>(ctorOf(x), buf, x.length, { comm, peer: parent, step: 0, algorithm: ALGORITHM }),
          );
          // Children get the received buffer itself: we own it and never write it.
          payload = buf;
        }
        break;
      }
      mask <<= 1;
    }
  }
  const sends: Promise<void>[] = [];
  for (mask >>= 1; mask > 0; mask >>= 1) {
    if (relative + mask < size)
      sends.push(comm.send(mod(relative + mask + root, size), 0, payload as Uint8Array));
  }
  await Promise.all(sends);
  return x;
}
