/**
 * Index math for topology-aware algorithms: which ranks of a group share a host, and which rank leads each
 * host. Pure functions over the host index of every rank (equal numbers = same host).
 */

/** Host names (one per rank) to small indices in order of first appearance. */
export function hostIndices(names: readonly string[]): number[] {
  const index = new Map<string, number>();
  return names.map((n) => {
    let i = index.get(n);
    if (i === undefined) {
      i = index.size;
      index.set(n, i);
    }
    return i;
  });
}

export interface HostLayout {
  /** The ranks on this rank's host, ascending; the first leads the host. */
  local: number[];
  /** The leading (lowest) rank of every host, ascending. */
  leaders: number[];
}

export function hostLayout(hosts: readonly number[], rank: number): HostLayout {
  const local: number[] = [];
  const leaders: number[] = [];
  const seen = new Set<number>();
  hosts.forEach((h, r) => {
    if (h === hosts[rank]) local.push(r);
    if (!seen.has(h)) {
      seen.add(h);
      leaders.push(r);
    }
  });
  return { local, leaders };
}

/**
 * Whether a hierarchical algorithm helps: more than one host, and at least one host with more than one
 * rank (else there is no local step to save network traffic with).
 */
export function spansHostsWithSharing(hosts: readonly number[] | undefined): boolean {
  if (!hosts || hosts.length < 3) return false;
  const distinct = new Set(hosts).size;
  return distinct > 1 && distinct < hosts.length;
}
