import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TransportConfig } from './transport-config.js';

/** Names of slot files: p<sender pid>-s<sender rank>-d<receiver rank>. */
const SLOT_FILE = /^p(\d+)-s(\d+)-d(\d+)$/;

export function slotFileName(pid: number, source: number, dest: number): string {
  return `p${pid}-s${source}-d${dest}`;
}

/** Where shared-memory files live: tmpfs (/dev/shm) when the host has it, else the temp directory. */
function shmRoot(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
}

function ownedPrivateDir(dir: string, uid: number): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.isSymbolicLink() || (typeof process.getuid === 'function' && st.uid !== uid)) {
    throw new Error(`${dir} is not a directory owned by uid ${uid}; refusing to place job data there`);
  }
  chmodSync(dir, 0o700);
}

/**
 * This job's private (0700) shared-memory directory, <root>/tsrun-<uid>/<jobId>. The job id is derived from
 * the job secret, so only ranks of this job agree on it; the 0700 parent keeps other users out.
 * Before returning it sweeps what SIGKILLed jobs left behind (see sweepStale).
 */
export function privateShmDir(jobId: string): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const base = path.join(shmRoot(), `tsrun-${uid}`);
  ownedPrivateDir(base, uid);
  sweepStale(base);
  const dir = path.join(base, jobId);
  ownedPrivateDir(dir, uid);
  return dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes slot files whose writer process is gone (a rank killed with SIGKILL cannot remove its own) and
 * job directories left empty. Only names of the slot-file pattern are touched.
 */
export function sweepStale(base: string): void {
  let jobs: string[];
  try {
    jobs = readdirSync(base);
  } catch {
    return;
  }
  for (const job of jobs) {
    const dir = path.join(base, job);
    let files: string[];
    try {
      files = readdirSync(dir);
    } catch {
      continue;
    }
    let left = files.length;
    for (const f of files) {
      const m = SLOT_FILE.exec(f);
      if (!m || alive(Number(m[1]))) continue;
      rmSync(path.join(dir, f), { force: true });
      left -= 1;
    }
    if (left === 0 && olderThan(dir, EMPTY_DIR_GRACE_MS)) removeIfEmpty(dir);
  }
}

/**
 * A live job's directory is empty from its creation until its first large message, so only a directory
 * left empty for a while is removed; a fresh one belongs to a job starting right now.
 */
const EMPTY_DIR_GRACE_MS = 60_000;

function olderThan(dir: string, ms: number): boolean {
  try {
    return Date.now() - statSync(dir).mtimeMs > ms;
  } catch {
    return false;
  }
}

export function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty (another rank's files) or already gone
  }
}

/**
 * The shared-memory directory for a job, or undefined when TSRUN_SHM=0 or the directory cannot be made
 * (then same-host payloads go over ZeroMQ, said once on stderr).
 */
export function sharedMemoryDir(
  jobId: string,
  config: Pick<TransportConfig, 'sharedMemory'>,
): string | undefined {
  if (!config.sharedMemory) return undefined;
  try {
    return privateShmDir(jobId);
  } catch (e) {
    process.stderr.write(
      `tsrun: shared memory unavailable (${(e as Error).message}); same-host payloads go over ZeroMQ\n`,
    );
    return undefined;
  }
}
