import type { StoreClient } from '../src/rendezvous/store-client.js';
import type { StoreServer } from '../src/rendezvous/store-server.js';
import type { PeerMesh } from '../src/transport/peer-mesh.js';
import type { Header } from '../src/wire/index.js';

/** What a process group exposes to the world's dispatcher. */
export interface GroupEndpoint {
  deliver(source: number, header: Header, payload: Uint8Array): void;
  destinationFor(source: number, header: Header): Uint8Array | undefined;
  peerLost(rank: number, reason: string): void;
}

/** Messages for a group this rank has not created yet (a peer finished `split` first) wait here. */
const MAX_ORPHANS = 10_000;

/**
 * Everything one process shares between its groups: the mesh, the rendezvous store and the routing of
 * incoming messages by group id.
 */
export class World {
  private readonly groups = new Map<number, GroupEndpoint>();
  private readonly orphans = new Map<number, Array<[number, Header, Uint8Array]>>();
  private orphanCount = 0;
  readonly lost = new Set<number>();
  closed = false;
  /**
   * The host index of every world rank (hostIndices), set at init when the job spans hosts and some host
   * runs several ranks; empty otherwise, which keeps every algorithm flat.
   */
  hosts: readonly number[] = [];

  constructor(
    readonly rank: number,
    readonly size: number,
    readonly localRank: number,
    readonly localSize: number,
    readonly mesh: PeerMesh | undefined,
    readonly store: StoreClient | undefined,
    readonly server: StoreServer | undefined,
  ) {}

  /** Starts routing the mesh's traffic; call once the world group is registered. */
  start(): void {
    this.mesh?.attach(
      (source, header, payload) => this.dispatch(source, header, payload),
      (rank, reason) => {
        if (this.closed) return;
        this.lost.add(rank);
        for (const g of this.groups.values()) g.peerLost(rank, reason);
      },
      (source, header) => this.groups.get(header.group)?.destinationFor(source, header),
    );
  }

  register(id: number, g: GroupEndpoint): void {
    this.groups.set(id, g);
    const waiting = this.orphans.get(id);
    if (waiting) {
      this.orphans.delete(id);
      this.orphanCount -= waiting.length;
      for (const [s, h, p] of waiting) g.deliver(s, h, p);
    }
    for (const r of this.lost) g.peerLost(r, 'lost before the group was created');
  }

  unregister(id: number): void {
    this.groups.delete(id);
  }

  private dispatch(source: number, header: Header, payload: Uint8Array): void {
    const g = this.groups.get(header.group);
    if (g) {
      g.deliver(source, header, payload);
      return;
    }
    if (this.orphanCount >= MAX_ORPHANS) return;
    const list = this.orphans.get(header.group) ?? [];
    list.push([source, header, payload]);
    this.orphans.set(header.group, list);
    this.orphanCount += 1;
  }

  /** Whether a send of `bytes` to `peer` is copied before it resolves (same-host shared memory). */
  copiesOnSend(peer: number, bytes: number): boolean {
    return this.mesh?.copiesOnSend(peer, bytes) ?? false;
  }

  send(peer: number, header: Header, payload?: Uint8Array): Promise<void> {
    if (!this.mesh) return Promise.reject(new Error('a world of one rank has no peers'));
    return this.mesh.send(peer, header, payload);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.mesh?.close();
    this.store?.close();
    this.server?.close();
  }
}
