import dgram from 'node:dgram';
import { chmodSync, lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Env } from '../env-fields.js';
import { TRANSPORT_ENV } from './transport-config.js';

/**
 * Identifies this host for the choice between ipc:// and tcp://. The network namespace is part of it:
 * two namespaces on one machine are two hosts to the network (and to our multi-host tests).
 */
export function hostIdentity(): string {
  let netns = '';
  try {
    netns = readlinkSync('/proc/self/ns/net');
  } catch {
    netns = 'nonetns';
  }
  return `${os.hostname()}#${netns}`;
}

/**
 * A private (0700) directory for this job's ipc:// endpoints, so other users cannot connect to them.
 * Short path: unix socket paths are limited to 107 bytes.
 */
export function privateIpcDir(jobId: string): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const base = path.join(os.tmpdir(), `tsrun-${uid}`);
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const st = lstatSync(base);
  if (!st.isDirectory() || st.isSymbolicLink() || (typeof process.getuid === 'function' && st.uid !== uid)) {
    throw new Error(`${base} is not a directory owned by uid ${uid}; refusing to place job sockets there`);
  }
  chmodSync(base, 0o700);
  const dir = path.join(base, jobId);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * The local address whose interface routes to `target` (a UDP connect sends nothing). Binding there rather
 * than to 0.0.0.0 keeps rank endpoints off interfaces the job does not use.
 */
export function localAddressReaching(target: string, port = 9): Promise<string> {
  return new Promise((resolve) => {
    const family = target.includes(':') ? 'udp6' : 'udp4';
    const sock = dgram.createSocket(family);
    const done = (addr: string) => {
      try {
        sock.close();
      } catch {}
      resolve(addr);
    };
    sock.once('error', () => done(family === 'udp6' ? '::' : '0.0.0.0'));
    try {
      sock.connect(port, target, () => {
        try {
          done(sock.address().address);
        } catch {
          done('0.0.0.0');
        }
      });
    } catch {
      done('0.0.0.0');
    }
  });
}

/**
 * Where this process binds its TCP endpoints: TSRUN_BIND_ADDR (`tsrun --bind`) when set, else the
 * interface that reaches `target`.
 */
export function bindAddressFor(target: string, port?: number, env: Env = process.env): Promise<string> {
  const chosen = TRANSPORT_ENV.bindAddress.read(env);
  return chosen ? Promise.resolve(chosen) : localAddressReaching(target, port);
}
