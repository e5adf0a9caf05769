/**
 * A worker's decoded task arguments: inline ones decoded as their task arrives, remote ones fetched
 * from their holder ahead of need (so transfers overlap earlier tasks), kept in a cache bounded like
 * the object store. Tasks find their ObjectRef arguments here.
 */
import { deserialize } from 'node:v8';
import { decodePayload } from '../wire/index.js';
import type { ObjectFetcher, ObjectServer } from './object-server.js';
import { blobBytes, blobFrames } from './protocol.js';
import type { DispatchItem } from './task-types.js';

/** Remote arguments fetched ahead of the task that needs them, at most. */
const MAX_PREFETCH = 2;

interface RefMarker {
  __tsrunRef: string;
}

function isRefMarker(v: unknown): v is RefMarker {
  return typeof v === 'object' && v !== null && typeof (v as RefMarker).__tsrunRef === 'string';
}

export class ArgumentCache {
  /** Decoded argument values, least recently stored first; bounded like the object store. */
  private readonly values = new Map<string, unknown>();
  private readonly valueBytes = new Map<string, number>();
  private valuesTotal = 0;
  private readonly fetching = new Map<string, Promise<unknown>>();

  constructor(
    private readonly server: ObjectServer,
    private readonly fetcher: ObjectFetcher,
  ) {}

  /**
   * Starts fetching remote arguments as soon as a task arrives, so transfers overlap earlier tasks. Ahead
   * of need (not `now`), at most MAX_PREFETCH fetches run and spilled objects stay on disk: a batch of
   * tasks over spilled objects must not bring them all into memory at once.
   */
  prefetch(item: DispatchItem, blobs: Uint8Array[], now = false): void {
    for (const d of item.deps) {
      if (this.values.has(d.id) || this.fetching.has(d.id)) continue;
      if (d.meta) {
        const frames = blobFrames(d.meta, blobs);
        this.remember(d.id, decodePayload(d.meta, frames), blobBytes(frames));
      } else if (d.loc) {
        const here = this.server.store.has(d.id);
        if (!now && (here ? !this.server.store.inMemory(d.id) : this.fetching.size >= MAX_PREFETCH)) continue;
        const local = here ? this.server.store.get(d.id) : undefined;
        const p = local
          ? Promise.resolve(decodePayload(local, local.frames))
          : this.fetcher.fetch(d.id, d.loc).then((o) => decodePayload(o, o.frames));
        this.fetching.set(
          d.id,
          p.then((v) => {
            this.remember(d.id, v, byteSize(v));
            this.fetching.delete(d.id);
            return v;
          }),
        );
      }
    }
  }

  /**
   * Caches a decoded argument; past the store's limit the oldest are dropped (decoded again from the
   * store, or fetched again, when a later task needs them), so spilled objects do not pile up here.
   */
  private remember(id: string, v: unknown, bytes: number): void {
    this.forget(id);
    this.values.set(id, v);
    this.valueBytes.set(id, bytes);
    this.valuesTotal += bytes;
    while (this.valuesTotal > this.server.store.limit && this.values.size > 1) {
      const oldest = this.values.keys().next().value as string;
      this.forget(oldest);
    }
  }

  private forget(id: string): void {
    const n = this.valueBytes.get(id);
    if (n !== undefined) this.valuesTotal -= n;
    this.valueBytes.delete(id);
    this.values.delete(id);
  }

  /** The head freed id: drop its value and any fetch of it. */
  free(id: string): void {
    this.forget(id);
    this.fetching.delete(id);
  }

  /** Every ref argument's value is cached here. */
  atHand(args: unknown[]): boolean {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (isRefMarker(a) && !this.values.has(a.__tsrunRef)) return false;
    }
    return true;
  }

  /** Replaces args' ref markers by their cached values (atHand(args) must hold). */
  fillAtHand(args: unknown[]): unknown[] {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (isRefMarker(a)) args[i] = this.values.get(a.__tsrunRef);
    }
    return args;
  }

  /** item's arguments with ObjectRefs replaced by their values; a promise only when some must be fetched. */
  argsOf(item: DispatchItem, blobs: Uint8Array[]): unknown[] | Promise<unknown[]> {
    const args = deserialize(item.args) as unknown[];
    if (!this.atHand(args)) return this.fetchArgs(item, blobs, args);
    return this.fillAtHand(args);
  }

  async fetchArgs(item: DispatchItem, blobs: Uint8Array[], args: unknown[]): Promise<unknown[]> {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (!isRefMarker(a)) continue;
      const id = a.__tsrunRef;
      if (!this.values.has(id) && !this.fetching.has(id)) this.prefetch(item, blobs, true);
      // The awaited value itself: the cache may have dropped it again by the time the fetch is done.
      args[i] = this.values.has(id) ? this.values.get(id) : await this.fetching.get(id);
    }
    return args;
  }
}

/** Bytes a decoded value holds, as far as it matters for the cache bound (typed arrays, buffers). */
function byteSize(v: unknown): number {
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (v instanceof ArrayBuffer) return v.byteLength;
  return 1024;
}
