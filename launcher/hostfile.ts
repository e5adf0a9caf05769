/**
 * Open MPI hostfile syntax: one host per line, `host [slots=N] [max-slots=M]`, `#` starts a comment,
 * blank lines are ignored, a host named twice adds its slots (as Open MPI does). `--hosts a:2,b:2` is
 * the same list on the command line.
 */
import { readFileSync } from 'node:fs';
import { HostfileError, UsageError } from './errors.js';

export interface HostSlots {
  host: string;
  slots: number;
}

const HOST_RE = /^[A-Za-z0-9_.:[\]%-]+$/;

function parseCount(text: string, what: string, fail: (msg: string) => never): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) fail(`${what} must be a positive integer, got '${text}'`);
  return Number(text);
}

function addHost(list: HostSlots[], host: string, slots: number): void {
  const prev = list.find((h) => h.host === host);
  if (prev) prev.slots += slots;
  else list.push({ host, slots });
}

export function parseHostfileText(text: string, file: string): HostSlots[] {
  const hosts: HostSlots[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const lineNo = i + 1;
    const fail = (msg: string): never => {
      throw new HostfileError(file, lineNo, msg);
    };
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const [host, ...fields] = line.split(/\s+/);
    if (!HOST_RE.test(host) || host.includes('=')) fail(`'${host}' is not a host name or address`);
    let slots = 1;
    for (const field of fields) {
      const m = /^([a-z_-]+)=(.*)$/.exec(field);
      if (!m) fail(`expected 'slots=N' after the host name, got '${field}'`);
      const [, key, value] = m!;
      if (key === 'slots') slots = parseCount(value, 'slots', fail);
      else if (key === 'max-slots' || key === 'max_slots') parseCount(value, key, fail);
      else fail(`unknown hostfile field '${key}' (tsrun understands slots= and max-slots=)`);
    }
    addHost(hosts, host, slots);
  });
  if (hosts.length === 0) throw new HostfileError(file, 1, 'the hostfile names no host');
  return hosts;
}

export function readHostfile(file: string): HostSlots[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read hostfile ${file}: ${(err as Error).message}`);
  }
  return parseHostfileText(text, file);
}

/** `--hosts a:2,b,c:4` (a host without `:N` has one slot). */
export function parseHostList(spec: string): HostSlots[] {
  const hosts: HostSlots[] = [];
  for (const item of spec.split(',')) {
    const entry = item.trim();
    if (entry === '') throw new UsageError(`--hosts '${spec}' has an empty entry`);
    // The last ':' separates the slot count, so a bare IPv6 address needs brackets: [::1]:2.
    const m = /^(.*?)(?::(\d+))?$/.exec(entry)!;
    const host = m[1].replace(/^\[(.*)\]$/, '$1');
    if (!host || !HOST_RE.test(host)) throw new UsageError(`--hosts: '${entry}' is not host or host:slots`);
    const slots = m[2] === undefined ? 1 : Number(m[2]);
    if (slots < 1) throw new UsageError(`--hosts: '${entry}' has slot count 0`);
    addHost(hosts, host, slots);
  }
  return hosts;
}

/** Hosts that `tsrun` starts directly instead of over SSH, as Open MPI does. */
export function isLocalHost(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '::1';
}
