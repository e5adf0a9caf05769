/**
 * A CURVE-encrypted ROUTER whose ZAP domain admits only clients holding the job's client key: the
 * server socket of the rendezvous store and of the pool head. The domain is registered before the
 * socket binds (libzmq asks the handler about every handshake) and released when the socket closes.
 */
import * as zmq from 'zeromq';
import type { JobKeys } from './keys.js';
import { SOCKET_DEFAULTS } from './socket-options.js';
import { z85Encode } from './z85.js';
import { registerZapDomain, releaseZapDomain } from './zap.js';

export interface CurveRouter {
  readonly sock: zmq.Router;
  /** Closes the socket and releases its ZAP domain. */
  close(): void;
}

/**
 * Opens the router and runs bind(sock) (the caller's endpoints). When bind throws, the socket is closed
 * and the domain released before the error is rethrown as it was, for the caller to explain.
 */
export async function openCurveRouter(
  keys: JobKeys,
  zapDomain: string,
  options: ConstructorParameters<typeof zmq.Router>[0],
  bind: (sock: zmq.Router) => Promise<void>,
): Promise<CurveRouter> {
  await registerZapDomain(
    zapDomain,
    (mechanism, creds) =>
      mechanism === 'CURVE' && creds[0]?.length === 32 && z85Encode(creds[0]) === keys.client.publicKey,
  );
  const sock = new zmq.Router({
    ...SOCKET_DEFAULTS,
    curveServer: true,
    curveSecretKey: keys.server.secretKey,
    curvePublicKey: keys.server.publicKey,
    zapDomain,
    ...options,
  });
  const close = () => {
    sock.close();
    releaseZapDomain(zapDomain);
  };
  try {
    await bind(sock);
  } catch (e) {
    close();
    throw e;
  }
  return { sock, close };
}
