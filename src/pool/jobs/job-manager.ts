/**
 * The head's side of `tsrun job`: runs each submitted script as a driver on the head's host, in its own
 * process group (so `stop` reaches every process it started), with the cluster's address and secret in
 * its environment. Detached from whoever submitted it: the submitting terminal may close. Output goes to
 * <cluster dir>/jobs/<id>/output.log and the record to job.json next to it (written atomically at every
 * change), so logs and states outlive the head and show again after a restart.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../atomic-write.js';
import { nodeCommand } from '../../process/local-spawner.js';
import { groupMembers, stopGroup } from '../../process/process-group.js';
import { clusterDir } from '../cluster-files.js';
import { isTerminal, type JobInfo, type JobReply, type JobRequest } from './job-types.js';

/** SIGTERM first; what still runs this long after gets SIGKILL. */
const STOP_GRACE_MS = 5000;
/** Bytes of output per `logs` answer; `--follow` asks again from where it got to. */
const LOG_CHUNK_BYTES = 256 * 1024;

interface JobRec {
  info: JobInfo;
  /** Resolves once the driver has exited (or never started). */
  exited: Promise<void>;
  stopping?: Promise<void>;
  /** Serializes job.json writes, so an older state never lands after a newer one. */
  saving: Promise<void>;
  /** Started by an earlier head: not our child, so only its process group tells when it ends. */
  adopted?: boolean;
}

export function jobsDir(): string {
  return path.join(clusterDir(), 'jobs');
}

export class JobManager {
  private readonly jobs = new Map<string, JobRec>();
  private readonly dir = jobsDir();

  /**
   * @param address HOST:PORT drivers connect to (the head's advertised address).
   * @param secret the cluster secret, handed to drivers in TSRUN_POOL_SECRET.
   */
  constructor(
    private readonly address: string,
    private readonly secret: string,
  ) {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.loadPast();
  }

  list(): JobInfo[] {
    return [...this.jobs.values()]
      .map((j) => ({ ...j.info }))
      .sort((a, b) => a.submittedAt.localeCompare(b.submittedAt));
  }

  /** Entry point for PoolOp.JobRequest (Head.onJobRequest). */
  handle(body: unknown, reply: (answer: JobReply) => void): void {
    const r = body as JobRequest;
    const req = typeof r?.req === 'number' ? r.req : 0;
    this.answer(r)
      .then((a) => reply({ req, ...a } as JobReply))
      .catch((e: Error) => reply({ req, error: e.message }));
  }

  private async answer(r: JobRequest): Promise<Omit<JobReply, 'req'>> {
    switch (r?.kind) {
      case 'submit':
        return { job: this.submit(r) };
      case 'list':
        return { jobs: this.list() };
      case 'status':
        return { job: { ...this.find(r.id).info } };
      case 'stop': {
        const j = this.find(r.id);
        await this.stop(j, 'stopped by tsrun job stop');
        return { job: { ...j.info } };
      }
      case 'logs': {
        const j = this.find(r.id);
        // The state is read before the bytes: a client that sees a final state then gets all output.
        const job = { ...j.info };
        const { data, next } = this.readLog(j.info.id, Number(r.offset) || 0);
        return { job, data, next };
      }
      default:
        throw new Error(`unknown job request '${(r as { kind?: unknown })?.kind}'`);
    }
  }

  private find(id: string): JobRec {
    const j = this.jobs.get(String(id));
    if (!j) throw new Error(`no job '${id}' on this cluster (tsrun job list shows its jobs)`);
    return j;
  }

  private submit(r: Extract<JobRequest, { kind: 'submit' }>): JobInfo {
    const cwd = path.resolve(String(r.workingDir));
    if (!existsSync(cwd) || !statSync(cwd).isDirectory())
      throw new Error(`working directory ${cwd} does not exist on the head's host`);
    const script = path.resolve(cwd, String(r.script));
    if (!existsSync(script)) throw new Error(`script not found on the head's host: ${script}`);
    const id = `job-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`;
    const jobDir = path.join(this.dir, id);
    mkdirSync(jobDir, { recursive: true, mode: 0o700 });
    const info: JobInfo = {
      id,
      state: 'PENDING',
      entrypoint: [String(r.script), ...r.args.map(String)],
      workingDir: cwd,
      submittedAt: new Date().toISOString(),
    };
    let exited!: () => void;
    const rec: JobRec = { info, exited: new Promise((r) => (exited = r)), saving: Promise.resolve() };
    this.jobs.set(id, rec);
    this.save(rec);

    const fd = openSync(path.join(jobDir, 'output.log'), 'a', 0o600);
    const env: NodeJS.ProcessEnv = {};
    // The head daemon's own settings (role, port, workers) are not the driver's business.
    for (const [k, v] of Object.entries(process.env))
      if (!k.startsWith('TSRUN_CLUSTER_') || k === 'TSRUN_CLUSTER_DIR') env[k] = v;
    Object.assign(env, r.env, {
      TSRUN_POOL_ADDRESS: this.address,
      TSRUN_POOL_SECRET: this.secret,
      TSRUN_JOB_ID: id,
    });
    const child = spawn(process.execPath, nodeCommand(script, info.entrypoint.slice(1)), {
      cwd,
      env,
      stdio: ['ignore', fd, fd],
      // Its own process group: stop signals the group, so the driver's children go with it.
      detached: true,
    });
    closeSync(fd);
    // Known at once (a stop right after submit must reach the group); undefined when spawn failed.
    info.pid = child.pid;
    child.once('spawn', () => {
      info.state = 'RUNNING';
      info.startedAt = new Date().toISOString();
      this.save(rec);
    });
    child.once('error', (e) => {
      if (info.state !== 'PENDING') return; // errors after the start are reported by 'exit'
      info.state = 'FAILED';
      info.message = `could not start the driver: ${e.message}`;
      info.endedAt = new Date().toISOString();
      this.save(rec);
      exited();
    });
    child.once('exit', (code, signal) => {
      info.endedAt = new Date().toISOString();
      if (rec.stopping) info.state = 'STOPPED';
      else if (code === 0) info.state = 'SUCCEEDED';
      else info.state = 'FAILED';
      if (code !== null) info.exitCode = code;
      if (signal) info.signal = signal;
      this.save(rec);
      exited();
    });
    // The driver outlives this request; the head does not wait for it to exit.
    child.unref();
    return { ...info };
  }

  private stop(j: JobRec, why: string): Promise<void> {
    if (isTerminal(j.info.state)) return Promise.resolve();
    j.stopping ??= (async () => {
      j.info.message = why;
      const pid = j.info.pid;
      if (pid !== undefined) {
        const left = await stopGroup(pid, STOP_GRACE_MS);
        if (left.length > 0) j.info.message = `${why}; pids ${left.join(' ')} did not die`;
      }
      if (!j.adopted) await j.exited;
      else this.adoptedGone(j, 'STOPPED');
    })();
    return j.stopping;
  }

  /** Stops every running job (the cluster is stopping). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.jobs.values()].map((j) => this.stop(j, 'the cluster was stopped')));
    await Promise.all([...this.jobs.values()].map((j) => j.saving));
  }

  private readLog(id: string, offset: number): { data: Uint8Array; next: number } {
    let fd: number;
    try {
      fd = openSync(path.join(this.dir, id, 'output.log'), 'r');
    } catch {
      return { data: new Uint8Array(0), next: offset };
    }
    try {
      const buf = Buffer.alloc(LOG_CHUNK_BYTES);
      const n = readSync(fd, buf, 0, buf.length, offset);
      return { data: new Uint8Array(buf.subarray(0, n)), next: offset + n };
    } finally {
      closeSync(fd);
    }
  }

  private save(j: JobRec): void {
    const text = `${JSON.stringify(j.info)}\n`;
    const file = path.join(this.dir, j.info.id, 'job.json');
    j.saving = j.saving
      .then(() => writeFileAtomic(file, text, 0o600))
      .catch((e: Error) => {
        process.stderr.write(`tsrun jobs: could not record ${file}: ${e.message}\n`);
      });
  }

  /**
   * Jobs of an earlier head: finished ones as they were; a driver still running (the head was killed,
   * its drivers were not) is watched by its process group until it is gone, its exit code unknown.
   */
  private loadPast(): void {
    for (const id of readdirSync(this.dir)) {
      let info: JobInfo;
      try {
        info = JSON.parse(readFileSync(path.join(this.dir, id, 'job.json'), 'utf8')) as JobInfo;
      } catch {
        continue;
      }
      const rec: JobRec = { info, exited: Promise.resolve(), saving: Promise.resolve(), adopted: true };
      this.jobs.set(info.id, rec);
      if (isTerminal(info.state)) continue;
      if (info.pid === undefined || groupMembers(info.pid).length === 0) {
        this.adoptedGone(rec, 'FAILED');
        continue;
      }
      const timer = setInterval(() => {
        if (rec.stopping || groupMembers(info.pid!).length > 0) return;
        clearInterval(timer);
        this.adoptedGone(rec, 'FAILED');
      }, 1000);
      timer.unref();
    }
  }

  private adoptedGone(j: JobRec, state: 'FAILED' | 'STOPPED'): void {
    if (isTerminal(j.info.state)) return;
    j.info.state = state;
    j.info.endedAt = new Date().toISOString();
    if (state === 'FAILED') j.info.message = 'its exit code is unknown: the head restarted while it ran';
    this.save(j);
  }
}
