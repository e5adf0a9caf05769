/**
 * Barrier by dissemination (ceil(log2 p) rounds for any p): in round k rank r signals r+2^k and waits for
 * r-2^k. After the last round every rank has heard, directly or transitively, from every other.
 */
import type { Comm } from '../comm.js';
import { mod } from './typed-views.js';

const EMPTY = new Uint8Array(0);

export async function barrierDissemination(comm: Comm): Promise<void> {
  const { rank, size } = comm;
  for (let distance = 1, step = 0; distance < size; distance <<= 1, step++) {
    await Promise.all([
      comm.send((rank + distance) % size, step, EMPTY),
      comm.recv(mod(rank - distance, size), step),
    ]);
  }
}
