/**
 * A client's message connection to a server of the job, by endpoint: `tcp://` and `ipc://` are a CURVE
 * DEALER (the server's ZAP handler admits only the job's client key), `unix://PATH` a framed node:net
 * Unix socket (frame-stream.ts) for a server on this host, which proves membership by sending the job's
 * data token first. The Unix socket lives in the job's 0700 directory, so only the job's user can reach
 * it at all; the token keeps the rule that a client holds the secret.
 */
import { timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import * as zmq from 'zeromq';
import { FrameStream } from './frame-stream.js';
import type { JobKeys } from './keys.js';
import { SendQueue } from './send-queue.js';
import { SOCKET_DEFAULTS } from './socket-options.js';

export interface MessageCarrier {
  /** Resolves once the message is handed to the socket; rejects when it cannot be. */
  send(frames: Uint8Array[]): Promise<void>;
  onMessage: (frames: Uint8Array[]) => void;
  /**
   * The connection failed or ended; refused when the server rejected our credentials. Called at most
   * once, never after close().
   */
  onBroken: (why: string, refused: boolean) => void;
  close(): void;
}

export const UNIX_SCHEME = 'unix://';

/** The one-frame message a Unix-socket server sends before closing a connection whose token is wrong. */
export const TOKEN_REFUSED = Buffer.from('tsrun: token refused', 'latin1');

/** Whether a connection's first frame is the job's data token (compared in constant time). */
export function tokenMatches(frame: Uint8Array | undefined, token: Buffer): boolean {
  return frame !== undefined && frame.byteLength === token.length && timingSafeEqual(frame, token);
}

export function openCarrier(endpoint: string, keys: JobKeys): MessageCarrier {
  return endpoint.startsWith(UNIX_SCHEME)
    ? openUnixCarrier(endpoint.slice(UNIX_SCHEME.length), keys.dataToken)
    : openCurveDealerCarrier(endpoint, keys);
}

function openCurveDealerCarrier(endpoint: string, keys: JobKeys): MessageCarrier {
  const sock = new zmq.Dealer({
    ...SOCKET_DEFAULTS,
    curveServerKey: keys.server.publicKey,
    curvePublicKey: keys.client.publicKey,
    curveSecretKey: keys.client.secretKey,
  });
  const queue = new SendQueue(sock);
  let closed = false;
  const carrier: MessageCarrier = {
    send: (frames) => queue.send(frames),
    onMessage: () => {},
    onBroken: () => {},
    close: () => {
      closed = true;
      sock.close();
    },
  };
  void (async () => {
    try {
      let failures = 0;
      for await (const ev of sock.events) {
        // ZAP refusing our key gives error:auth; a wrong secret also means a wrong server key, so the
        // server cannot even read our first message and the handshake breaks (error:protocol / other).
        if (ev.type.startsWith('handshake:error') && ++failures >= 2 && !closed) {
          carrier.onBroken('the handshake failed twice', true);
          return;
        }
      }
    } catch {
      // events end when the socket closes
    }
  })();
  void (async () => {
    try {
      for await (const frames of sock) carrier.onMessage(frames);
    } catch {
      // closed
    }
  })();
  sock.connect(endpoint);
  return carrier;
}

function openUnixCarrier(socketPath: string, token: string): MessageCarrier {
  const socket = net.connect(socketPath);
  let closed = false;
  let connectError: string | undefined;
  // Before the stream's own listener, which ends the stream on the first error.
  socket.once('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') connectError = `nothing listens at ${socketPath}`;
  });
  const stream = new FrameStream(socket);
  const carrier: MessageCarrier = {
    send: (frames) =>
      stream.send(frames) ? Promise.resolve() : Promise.reject(new Error('the connection is closed')),
    onMessage: () => {},
    onBroken: () => {},
    close: () => {
      closed = true;
      stream.close();
    },
  };
  let refused = false;
  stream.onMessage = (frames) => {
    if (frames.length === 1 && TOKEN_REFUSED.equals(frames[0])) refused = true;
    else carrier.onMessage(frames);
  };
  stream.onClose = (why) => {
    if (closed) return;
    closed = true;
    if (refused) carrier.onBroken('the server refused our token', true);
    else
      carrier.onBroken(connectError ?? (why === 'closed' ? 'the server closed the connection' : why), false);
  };
  stream.send([Buffer.from(token, 'latin1')]);
  return carrier;
}
