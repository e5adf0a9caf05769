import * as zmq from 'zeromq';

/**
 * The ZeroMQ Authentication Protocol (RFC 27) handler of this process. libzmq asks it about every
 * handshake on sockets that set `zapDomain`; without it CURVE accepts any client that knows the server
 * key and PLAIN accepts any password, so the handler is what makes the job secret matter.
 */
export type ZapCheck = (mechanism: string, credentials: Buffer[], address: string) => boolean;

const checks = new Map<string, ZapCheck>();
let handler: zmq.Router | undefined;
/** Resolves once the handler is bound: sockets that need ZAP must not bind before. */
let ready: Promise<void> = Promise.resolve();
let rejected = 0;

/** Number of handshakes refused by this process so far (tests and hardening reports read it). */
export function zapRejections(): number {
  return rejected;
}

const users = new Map<string, number>();

/**
 * Registers the check for a ZAP domain and makes sure the handler socket is bound. Every register is
 * paired with a release: the handler's pending receive would otherwise keep the process alive.
 */
export async function registerZapDomain(domain: string, check: ZapCheck): Promise<void> {
  checks.set(domain, check);
  users.set(domain, (users.get(domain) ?? 0) + 1);
  if (handler) return ready;
  const sock = new zmq.Router({ linger: 0 });
  handler = sock;
  ready = (async () => {
    // A handler closed a moment ago may still hold the inproc name (libzmq unbinds asynchronously).
    for (let attempt = 0; ; attempt++) {
      try {
        await sock.bind('inproc://zeromq.zap.01');
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== 'EADDRINUSE' || attempt >= 200) throw e;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    void serve(sock);
  })();
  return ready;
}

export function releaseZapDomain(domain: string): void {
  const n = (users.get(domain) ?? 1) - 1;
  if (n > 0) {
    users.set(domain, n);
    return;
  }
  users.delete(domain);
  checks.delete(domain);
  if (users.size === 0 && handler) {
    handler.close();
    handler = undefined;
  }
}

async function serve(sock: zmq.Router): Promise<void> {
  try {
    for await (const frames of sock) {
      // [routing id, empty delimiter, version, request id, domain, address, identity, mechanism, ...credentials]
      const [rid, empty, version, requestId, domain, address, , mechanism, ...credentials] = frames;
      const check = checks.get(domain?.toString() ?? '');
      let ok = false;
      try {
        ok = check?.(mechanism.toString(), credentials, address.toString()) === true;
      } catch {
        ok = false;
      }
      if (!ok) rejected += 1;
      await sock.send([
        rid,
        empty,
        version,
        requestId,
        ok ? '200' : '400',
        ok ? 'OK' : 'not a member of this job',
        '',
        '',
      ]);
    }
  } catch {
    // The handler socket closes when the process shuts its context down; nothing to report.
  }
}

export const ZAP_DATA_DOMAIN = 'tsrun-data';
export const ZAP_CONTROL_DOMAIN = 'tsrun-control';
