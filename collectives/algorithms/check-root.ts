import type { Comm } from '../comm.js';

/** Rejects a root that is not a rank of the group, before any message is sent. */
export function checkRoot(comm: Comm, root: number, what: string): void {
  if (!Number.isInteger(root) || root < 0 || root >= comm.size) {
    throw new RangeError(`${what}: root ${root} is not a rank of this group (0..${comm.size - 1})`);
  }
}
