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

/**
 * Waits until every rank has connected its mesh (torch's store-based barrier at the end of
 * init_process_group). Without it a fast rank can finish its first collectives and exit while a slow
 * rank is still dialling it, and the slow rank then waits out the whole rendezvous timeout for a
 * handshake that can no longer come. Rank 0 serves the store, so it also waits until every other rank
 * has read the barrier's answer: closing the store earlier would leave a slow rank's last request
 * unanswered.
 */
export async function waitForAllConnected(
  store: StoreClient,
  rank: number,
  size: number,
  timeoutMs: number,
): Promise<void> {
  const arrived = await store.add('tsrun/connected', 1, timeoutMs);
  if (arrived === size) await store.set('tsrun/all-connected', true, timeoutMs);
  try {
    await store.get('tsrun/all-connected', timeoutMs);
    if (rank !== 0) {
      const released = await store.add('tsrun/released', 1, timeoutMs);
      if (released === size - 1) await store.set('tsrun/all-released', true, timeoutMs);
    } else if (size > 1) {
      await store.get('tsrun/all-released', timeoutMs);
    }
  } catch {
    const now = await store.add('tsrun/connected', 0, 5_000).catch(() => arrived);
    throw new RendezvousError(
      `rendezvous at ${store.where}: only ${now} of ${size} ranks connected to their peers within ${timeoutMs} ms ` +
        '(a rank crashed during start-up, or a firewall blocks the ranks’ data ports)',
    );
  }
}
