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
  /**
   * When every host runs the same number of ranks: the rank at this rank's local position on every host,
   * in the order of `leaders` (this rank included).
   */
  column?: number[];
}

export function hostLayout(hosts: readonly number[], rank: number): HostLayout {
  const byHost = new Map<number, number[]>();
  hosts.forEach((h, r) => {
    const list = byHost.get(h);
    if (list) list.push(r);
    else byHost.set(h, [r]);
  });
  const groups = [...byHost.values()];
  const local = byHost.get(hosts[rank]) ?? [];
  const leaders = groups.map((g) => g[0]);
  const uniform = groups.every((g) => g.length === local.length);
  const at = local.indexOf(rank);
  return uniform ? { local, leaders, column: groups.map((g) => g[at]) } : { local, leaders };
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
