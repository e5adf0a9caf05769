import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { EnvironmentError } from '../errors.js';

/**
 * Resolves a host name the usual way (getaddrinfo: /etc/hosts, then DNS), preferring IPv4 because the
 * ZeroMQ sockets are IPv4 unless told otherwise. `from` says where the name came from, for the error.
 */
export async function resolveHostAddress(name: string, from: string): Promise<string> {
  if (isIP(name)) return name;
  try {
    return (await lookup(name, { family: 4 })).address;
  } catch {
    try {
      return (await lookup(name)).address;
    } catch (e) {
      throw new EnvironmentError(
        `cannot resolve ${JSON.stringify(name)} (${from}) to an address: ${(e as Error).message}; ` +
          `export MASTER_ADDR to rank 0's address`,
      );
    }
  }
}
