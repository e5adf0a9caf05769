import { RendezvousError } from '../errors.js';
import type { PeerEndpoint } from '../transport/peer-mesh.js';
import type { StoreClient } from './store-client.js';

/**
 * Registers this rank's endpoint (once: a rank already registered is refused) and waits for every rank's. On timeout, asks the store which ranks are
 * missing so the error names them (the usual cause: a rank that crashed at start, or a wrong MASTER_ADDR).
 */
export async function exchangeEndpoints(
  store: StoreClient,
  self: PeerEndpoint,
  size: number,
  timeoutMs: number,
): Promise<PeerEndpoint[]> {
  if (!(await store.claim(`tsrun/ep/${self.rank}`, self, timeoutMs))) {
    // Joining anyway would pair this process with another job's ranks (or a stray duplicate) silently.
    throw new RendezvousError(
      `rank ${self.rank} is already registered at the rendezvous at ${store.where}: another process joined as ` +
        `rank ${self.rank} first (a second job using the same MASTER_ADDR:MASTER_PORT and secret, or a rank ` +
        `started twice); refusing to join. Give each job its own MASTER_PORT, TSRUN_JOB_SECRET or --rdzv-id.`,
    );
  }
  const keys = Array.from({ length: size }, (_, r) => `tsrun/ep/${r}`);
  try {
    return (await Promise.all(keys.map((k) => store.get(k, timeoutMs)))) as PeerEndpoint[];
  } catch (e) {
    let missing: number[] = [];
    try {
      const present = await store.check(keys, 5_000);
      missing = keys.map((_, r) => r).filter((r) => !present[r]);
    } catch {
      throw e;
    }
    throw new RendezvousError(
      `rendezvous at ${store.where} timed out after ${timeoutMs} ms: rank${missing.length === 1 ? '' : 's'} ` +
        `${missing.join(', ')} of ${size} never joined (crashed at start, not launched, or given another MASTER_ADDR/MASTER_PORT)`,
    );
  }
}
