/**
 * Serves a Unix socket that only this user can open: a stale file of a killed process with the same name is
 * removed first, and the socket gets mode 0600 (its directory is the job's 0700 one besides).
 */
import { chmodSync, rmSync } from 'node:fs';
import type net from 'node:net';

export async function listenPrivate(server: net.Server, socketPath: string): Promise<void> {
  rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);
}
