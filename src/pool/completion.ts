/** How a worker reports a finished task or actor call: small results inline, large ones kept in its store. */
import { encodePayload } from '../wire/index.js';
import { type ObjectServer, storedBytes } from './object-server.js';
import { pushBlob } from './protocol.js';
import type { CompletionItem, DispatchItem } from './task-types.js';

/** Encodes value as item's result (inline up to inlineMaxBytes); throws when it cannot be encoded. */
export function successOf(
  item: DispatchItem,
  value: unknown,
  server: ObjectServer,
  blobs: Uint8Array[],
  inlineMaxBytes: number,
): CompletionItem {
  const enc = encodePayload(value);
  const size = storedBytes(enc);
  if (size <= inlineMaxBytes)
    return { id: item.id, ok: true, meta: pushBlob(blobs, enc), size, attempt: item.attempt };
  // Large results stay here until someone fetches them (the head records this worker as holder).
  server.store.set(item.id, enc);
  return { id: item.id, ok: true, size, attempt: item.attempt };
}

export function failureOf(item: DispatchItem, e: unknown): CompletionItem {
  const err = e instanceof Error ? e : new Error(String(e));
  return {
    id: item.id,
    ok: false,
    size: 0,
    attempt: item.attempt,
    error: { name: err.name, message: err.message, stack: err.stack ?? String(err) },
  };
}
