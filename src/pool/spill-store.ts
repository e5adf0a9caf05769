/**
 * A process's object store with a memory limit: past it, the objects least recently stored or read go
 * to files in this process's spill directory and are read back on demand (without re-entering memory,
 * so a scan over spilled objects cannot push the store back over its limit). Synchronous on purpose:
 * its callers (the object server, a worker's argument lookup) use it within one event-loop turn.
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statfsSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { ObjectStoreFullError, PoolUsageError } from './errors.js';
import { type StoredObject, storedBytes } from './object-server.js';
import { readPoolConfig } from './pool-config.js';

/** Share of the host's RAM a node's object store may hold in memory by default (as Ray's 30%). */
export const DEFAULT_STORE_FRACTION = 0.3;

/** The node's limit: TSRUN_OBJECT_STORE_BYTES, else DEFAULT_STORE_FRACTION of the host's RAM. */
export function objectStoreBytes(given?: number): number {
  const env = readPoolConfig().objectStoreBytes;
  const v =
    given ??
    (env !== undefined && env !== '' ? Number(env) : Math.floor(totalmem() * DEFAULT_STORE_FRACTION));
  if (!Number.isFinite(v) || v < 1 || !Number.isInteger(v)) {
    throw new PoolUsageError(
      `object store limit ${given !== undefined ? `objectStoreBytes: ${given}` : `TSRUN_OBJECT_STORE_BYTES=${env}`} must be a positive integer number of bytes`,
    );
  }
  return v;
}

/** Where a process spills: TSRUN_SPILL_DIR (default the system temp dir)/tsrun-spill-<pid>, mode 0700. */
export function spillDirFor(pid: number): string {
  return path.join(readPoolConfig().spillRoot ?? tmpdir(), `tsrun-spill-${pid}`);
}

interface Spilled {
  payloadType: StoredObject['payloadType'];
  dtype: StoredObject['dtype'];
  count: number;
  lengths: number[];
  bytes: number;
  file: string;
}

export interface SpillStats {
  limit: number;
  inMemory: number;
  spilled: number;
  spilledObjects: number;
  spilledTotal: number;
  restoredTotal: number;
  spillSeconds: number;
  restoreSeconds: number;
}

export class SpillStore {
  /** Insertion order is recency order: a read moves an object to the end. */
  private readonly memory = new Map<string, StoredObject>();
  private readonly sizes = new Map<string, number>();
  private readonly disk = new Map<string, Spilled>();
  private memBytes = 0;
  private diskBytes = 0;
  private dirMade = false;
  private nextFile = 1;
  private readonly stats = { spilledTotal: 0, restoredTotal: 0, spillSeconds: 0, restoreSeconds: 0 };
  /** Bytes spilled or restored since the last collection. */
  private churn = 0;

  constructor(
    readonly limit: number,
    readonly dir: string,
  ) {}

  get size(): number {
    return this.memory.size + this.disk.size;
  }

  inMemory(id: string): boolean {
    return this.memory.has(id);
  }

  has(id: string): boolean {
    return this.memory.has(id) || this.disk.has(id);
  }

  set(id: string, o: StoredObject): void {
    this.delete(id);
    const bytes = storedBytes(o);
    if (bytes > this.limit) {
      this.spill(id, o, bytes); // larger than the whole store: straight to disk
      return;
    }
    while (this.memBytes + bytes > this.limit) {
      const oldest = this.memory.keys().next().value as string;
      const victim = this.memory.get(oldest)!;
      const size = this.sizes.get(oldest)!;
      try {
        this.spill(oldest, victim, size);
      } catch (e) {
        if (!(e instanceof ObjectStoreFullError)) throw e;
        // Reported as the object being stored: it is the one that does not fit.
        throw new ObjectStoreFullError(
          id,
          bytes,
          e.memoryBytes,
          e.limitBytes,
          e.spilledBytes,
          e.spillDir,
          e.diskFreeBytes,
          e.reason,
        );
      }
      this.memory.delete(oldest);
      this.sizes.delete(oldest);
      this.memBytes -= size;
    }
    this.memory.set(id, o);
    this.sizes.set(id, bytes);
    this.memBytes += bytes;
  }

  get(id: string): StoredObject | undefined {
    const m = this.memory.get(id);
    if (m) {
      this.memory.delete(id);
      this.memory.set(id, m);
      return m;
    }
    const s = this.disk.get(id);
    if (!s) return undefined;
    const t0 = performance.now();
    const buf = readFileSync(s.file);
    this.stats.restoreSeconds += (performance.now() - t0) / 1000;
    this.stats.restoredTotal += s.bytes;
    this.collect(s.bytes);
    const frames: Uint8Array[] = [];
    let off = 0;
    for (const n of s.lengths) {
      frames.push(new Uint8Array(buf.buffer, buf.byteOffset + off, n));
      off += n;
    }
    return { payloadType: s.payloadType, dtype: s.dtype, count: s.count, frames };
  }

  delete(id: string): void {
    const size = this.sizes.get(id);
    if (size !== undefined) {
      this.memory.delete(id);
      this.sizes.delete(id);
      this.memBytes -= size;
      return;
    }
    const s = this.disk.get(id);
    if (!s) return;
    this.disk.delete(id);
    this.diskBytes -= s.bytes;
    try {
      unlinkSync(s.file);
    } catch {
      // already gone (the directory was removed)
    }
  }

  private spill(id: string, o: StoredObject, bytes: number): void {
    const file = path.join(this.dir, `${this.nextFile++}.obj`);
    const t0 = performance.now();
    try {
      if (!this.dirMade) {
        mkdirSync(path.dirname(this.dir), { recursive: true, mode: 0o700 });
        mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        this.dirMade = true;
      }
      const fd = openSync(file, 'w', 0o600);
      try {
        writeAll(fd, o.frames);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      try {
        unlinkSync(file);
      } catch {
        // nothing written
      }
      const code = (e as NodeJS.ErrnoException).code;
      throw new ObjectStoreFullError(
        id,
        bytes,
        this.memBytes,
        this.limit,
        this.diskBytes,
        this.dir,
        freeBytes(this.dir),
        code ?? (e as Error).message,
      );
    }
    this.stats.spillSeconds += (performance.now() - t0) / 1000;
    this.stats.spilledTotal += bytes;
    this.collect(bytes);
    this.disk.set(id, {
      payloadType: o.payloadType,
      dtype: o.dtype,
      count: o.count,
      lengths: o.frames.map((f) => f.byteLength),
      bytes,
      file,
    });
    this.diskBytes += bytes;
  }

  /**
   * V8 frees a dropped ArrayBuffer only at its next GC, which external memory triggers late: a worker
   * spilling 8 MiB objects through a 32 MiB store peaked 175 MiB over its start. When the process runs
   * with --expose-gc (workers do), collect once per half a limit of bytes moved, so RSS follows the limit.
   */
  private collect(bytes: number): void {
    this.churn += bytes;
    if (this.churn < this.limit / 2) return;
    this.churn = 0;
    (globalThis as { gc?: () => void }).gc?.();
  }

  summary(): SpillStats {
    return {
      limit: this.limit,
      inMemory: this.memBytes,
      spilled: this.diskBytes,
      spilledObjects: this.disk.size,
      ...this.stats,
    };
  }

  /** Drops every object and removes the spill directory. */
  clear(): void {
    this.memory.clear();
    this.sizes.clear();
    this.disk.clear();
    this.memBytes = 0;
    this.diskBytes = 0;
    if (!this.dirMade) return;
    rmSync(this.dir, { recursive: true, force: true });
    this.dirMade = false;
    try {
      rmdirSync(path.dirname(this.dir)); // the process's directory, once its last store is gone
    } catch {
      // another store of this process still spills there
    }
  }
}

function writeAll(fd: number, frames: Uint8Array[]): void {
  for (const f of frames) {
    let off = 0;
    while (off < f.byteLength) off += writeSync(fd, f, off, f.byteLength - off);
  }
}

function freeBytes(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}
