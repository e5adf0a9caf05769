/**
 * The submitting side of `tsrun job`: an admin connection to the head (CURVE with the cluster secret;
 * without it the head's ZAP refuses the connection), one JobRequest per call, answers matched by number.
 */
import { hostname } from 'node:os';
import { hostIdentity } from '../../transport/host-identity.js';
import { deriveJobKeys } from '../../transport/keys.js';
import { PoolError } from '../errors.js';
import { HeadLink } from '../head-link.js';
import { PoolOp } from '../protocol.js';
import type { JobInfo, JobReply, JobRequest } from './job-types.js';

/** The head answered a job request with an error (unknown job, missing script, ...). */
export class JobRequestError extends PoolError {
  override name = 'JobRequestError';
}

type Ask = JobRequest extends infer R ? (R extends { req: number } ? Omit<R, 'req'> : never) : never;

export class JobClient {
  private nextReq = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (r: JobReply) => void; reject: (e: Error) => void }
  >();

  private constructor(private readonly link: HeadLink) {
    link.onMessage = (m) => {
      if (m.op !== PoolOp.JobReply) return;
      const r = m.body as JobReply;
      const w = this.waiting.get(r.req);
      if (!w) return;
      this.waiting.delete(r.req);
      if ('error' in r) w.reject(new JobRequestError(r.error));
      else w.resolve(r);
    };
    link.onLost = (e) => {
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
  }

  static async open(address: string, secret: string, timeoutMs?: number): Promise<JobClient> {
    const { link } = await HeadLink.open(
      `tcp://${address}`,
      deriveJobKeys(secret),
      { role: 'admin', pid: process.pid, host: hostIdentity(), hostname: hostname() },
      timeoutMs,
    );
    return new JobClient(link);
  }

  private ask(body: Ask): Promise<JobReply> {
    const req = this.nextReq++;
    return new Promise((resolve, reject) => {
      this.waiting.set(req, { resolve, reject });
      this.link.send(PoolOp.JobRequest, { ...body, req });
    });
  }

  async submit(o: { script: string; args: string[]; workingDir: string; env: Record<string, string> }) {
    return ((await this.ask({ kind: 'submit', ...o })) as { job: JobInfo }).job;
  }

  async status(id: string): Promise<JobInfo> {
    return ((await this.ask({ kind: 'status', id })) as { job: JobInfo }).job;
  }

  async stop(id: string): Promise<JobInfo> {
    return ((await this.ask({ kind: 'stop', id })) as { job: JobInfo }).job;
  }

  async list(): Promise<JobInfo[]> {
    return ((await this.ask({ kind: 'list' })) as { jobs: JobInfo[] }).jobs;
  }

  /** Output from byte `offset` on (a chunk at most), the next offset, and the job as it was before. */
  async logs(id: string, offset: number): Promise<{ job: JobInfo; data: Uint8Array; next: number }> {
    return (await this.ask({ kind: 'logs', id, offset })) as { job: JobInfo; data: Uint8Array; next: number };
  }

  close(): void {
    this.link.close();
  }
}
