/**
 * Files of a persistent cluster on the head's host: the secret (mode 0600, only this user can read it)
 * and head.json (address and pid). TSRUN_CLUSTER_DIR moves them (tests use a private directory).
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { PoolConnectError } from './errors.js';
import { readPoolConfig } from './pool-config.js';

export interface HeadInfo {
  address: string;
  /** The head's Unix socket (unix://PATH), which drivers on its host use instead of address. */
  local?: string;
  pid: number;
  hostname: string;
  startedAt: string;
}

export function clusterDir(): string {
  return readPoolConfig().clusterDir;
}

export function secretPath(): string {
  return path.join(clusterDir(), 'secret');
}

export async function writeClusterFiles(secret: string, info: HeadInfo): Promise<void> {
  const dir = clusterDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  await writeFileAtomic(secretPath(), `${secret}\n`, 0o600);
  chmodSync(secretPath(), 0o600);
  await writeFileAtomic(path.join(dir, 'head.json'), `${JSON.stringify(info)}\n`);
}

/** The cluster secret, or undefined without a file; refused when other users could read it (as ssh does). */
export function readSecretFile(): string | undefined {
  const file = secretPath();
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    return undefined;
  }
  if ((mode & 0o077) !== 0) {
    throw new PoolConnectError(
      `cluster secret ${file} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}); ` +
        `run chmod 600 ${file}, or give the secret with TSRUN_POOL_SECRET`,
    );
  }
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed head not yet reaped (a zombie) still answers kill(0): it must not block a restart.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** The running head of this host's cluster, or undefined when none is recorded or its process is gone. */
export function readHeadInfo(): HeadInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path.join(clusterDir(), 'head.json'), 'utf8')) as HeadInfo;
    return alive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

export function removeClusterFiles(): void {
  rmSync(path.join(clusterDir(), 'head.json'), { force: true });
  rmSync(secretPath(), { force: true });
}
