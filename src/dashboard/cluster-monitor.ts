/**
 * The dashboard of a pool cluster (`tsrun cluster start --head --dashboard-port P`), inside the head's
 * process. Hosts are the head's and every host with a node agent; processes are the head, the workers
 * and the drivers. Figures arrive with the heartbeats clients already send (see cluster-feed.ts); the
 * head's own host and process are sampled here. Workers are the "ranks" of a cluster: numbered by their
 * worker id, each with its output (relayed by its node agent) for /api/logs.
 */
import { hostname } from 'node:os';
import type { Head, HeadObserver, WorkerRec } from '../pool/head.js';
import type { HelloBody } from '../pool/head-link.js';
import { describeState, type JobInfo } from '../pool/jobs/job-types.js';
import type { SpillStats } from '../pool/spill-store.js';
import type { DriverFeedSample, NodeFeedSample, ProcFeed } from '../telemetry/cluster-feed.js';
import { FEED_KEY, STORE_FEED_KEY } from '../telemetry/cluster-feed.js';
import { HostSampler } from '../telemetry/host-sampler.js';
import { LogRing } from '../telemetry/log-ring.js';
import type {
  DashboardState,
  NodeInfo,
  ObjectStoreInfo,
  ProcessInfo,
  RankInfo,
} from '../telemetry/state-types.js';
import { taskCounters } from '../telemetry/task-counters.js';
import { SampledSource } from './sampled-source.js';
import { emptyTasks } from './state-summary.js';

/** A client whose heartbeats stopped this long ago has left (drivers say no goodbye when killed). */
const GONE_AFTER_MS = 5000;
/** Dead workers stay listed (as failed or exited) this long, so a crash is seen on the page. */
const KEEP_EXITS_MS = 5 * 60_000;

interface Seen<T> {
  hello: HelloBody;
  sample: T;
  at: number;
}

interface ExitRec {
  workerId: number;
  pid: number;
  host: string;
  code: number | null;
  signal: string | null;
  at: number;
}

export class ClusterMonitor extends SampledSource implements HeadObserver {
  private readonly nodes = new Map<string, Seen<NodeFeedSample>>();
  private readonly drivers = new Map<string, Seen<DriverFeedSample>>();
  /** Each worker's object store, by host|pid, from its heartbeats. */
  private readonly stores = new Map<string, Seen<SpillStats>>();
  private readonly exits: ExitRec[] = [];
  private readonly rings = new Map<string, LogRing>();
  private readonly sampler = new HostSampler();
  private own?: { node: NodeInfo; head: ProcessInfo };

  constructor(
    private readonly head: Head,
    private readonly jobs?: { list(): JobInfo[] },
  ) {
    super();
    head.observer = this;
    taskCounters.enabled = true;
  }

  heartbeat(hello: HelloBody, body: unknown): void {
    const store = (body as Record<string, unknown> | undefined)?.[STORE_FEED_KEY];
    if (hello.role === 'worker' && store)
      this.stores.set(`${hello.host}|${hello.pid}`, { hello, sample: store as SpillStats, at: Date.now() });
    const sample = (body as Record<string, unknown> | undefined)?.[FEED_KEY];
    if (!sample) return;
    const key = `${hello.host}|${hello.pid}`;
    if (hello.role === 'node') {
      const s = sample as NodeFeedSample;
      this.nodes.set(key, { hello, sample: s, at: Date.now() });
      for (const [pid, lines] of Object.entries(s.logs))
        this.ring(hello.host, Number(pid)).push(`${lines.join('\n')}\n`);
    } else if (hello.role === 'driver') {
      this.drivers.set(key, { hello, sample: sample as DriverFeedSample, at: Date.now() });
    }
  }

  workerExited(w: WorkerRec, e: { pid: number; code: number | null; signal: string | null }): void {
    this.exits.push({ workerId: w.id, host: w.client.hello.host, ...e, at: Date.now() });
  }

  private ring(host: string, pid: number): LogRing {
    const key = `${host}|${pid}`;
    let r = this.rings.get(key);
    if (!r) {
      r = new LogRing();
      this.rings.set(key, r);
    }
    return r;
  }

  protected override refresh(): void {
    const now = Date.now();
    for (const m of [this.nodes, this.drivers, this.stores] as Map<string, { at: number }>[])
      for (const [k, v] of m) if (now - v.at > GONE_AFTER_MS) m.delete(k);
    while (this.exits.length > 0 && now - this.exits[0].at > KEEP_EXITS_MS) this.exits.shift();
    const p = this.sampler.proc(process.pid);
    this.own = {
      node: { host: hostname(), ...this.sampler.host(), processes: [] },
      head: {
        pid: process.pid,
        role: 'head',
        rssBytes: p.rssBytes,
        cpuPercent: p.cpuPercent,
        state: 'running',
      },
    };
  }

  state(): DashboardState {
    const byHost = new Map<string, NodeInfo>();
    const nodeOf = (host: string, name: string): NodeInfo => {
      let n = byHost.get(host);
      if (!n) {
        n = { host: name, cpuPercent: 0, memUsedBytes: 0, memTotalBytes: 0, processes: [] };
        byHost.set(host, n);
      }
      return n;
    };
    if (this.own) byHost.set(this.head.host, { ...this.own.node, processes: [{ ...this.own.head }] });
    const procs = new Map<string, ProcFeed>();
    for (const { hello, sample } of this.nodes.values()) {
      const n = nodeOf(hello.host, hello.hostname);
      // The head's host is sampled here; another node agent's figures describe its own host.
      if (hello.host !== this.head.host) Object.assign(n, sample.host);
      for (const pr of sample.procs) procs.set(`${hello.host}|${pr.pid}`, pr);
    }
    const ranks: RankInfo[] = [];
    for (const w of this.head.workers.values()) {
      const { host, hostname: name, pid } = w.client.hello;
      const f = procs.get(`${host}|${pid}`);
      nodeOf(host, name).processes.push({
        pid,
        role: 'worker',
        rank: w.id,
        rssBytes: f?.rssBytes ?? 0,
        cpuPercent: f?.cpuPercent ?? 0,
        state: 'running',
      });
      ranks.push({ rank: w.id, host, pid, state: 'running' });
    }
    for (const e of this.exits) {
      const failed = e.code !== 0 || e.signal !== null;
      const state = failed ? 'failed' : 'exited';
      const n = byHost.get(e.host);
      n?.processes.push({ pid: e.pid, role: 'worker', rank: e.workerId, rssBytes: 0, cpuPercent: 0, state });
      ranks.push({
        rank: e.workerId,
        host: e.host,
        pid: e.pid,
        state,
        ...(e.code !== null && { exitCode: e.code }),
        ...(e.signal && { signal: e.signal }),
      });
    }
    for (const { hello, sample } of this.drivers.values()) {
      nodeOf(hello.host, hello.hostname).processes.push({
        pid: hello.pid,
        role: 'driver',
        rssBytes: sample.proc.rssBytes,
        cpuPercent: sample.proc.cpuPercent,
        state: 'running',
      });
    }
    distinctNames([...byHost.values()]);
    // Ranks were filed under host identities; show the node's name instead.
    for (const r of ranks) r.host = byHost.get(r.host)?.host ?? r.host;
    ranks.sort((a, b) => a.rank - b.rank);
    return {
      nodes: [...byHost.values()],
      ranks,
      tasks: taskCounters.attached ? taskCounters.read() : emptyTasks(),
      collectives: { ops: 0, bytes: 0, secondsInCollectives: 0 },
      actors: this.head.actors.summary().map((a) => ({
        cls: a.cls,
        ...(a.name !== undefined && { name: a.name }),
        state: a.state,
        restarts: a.restarts,
        ...(a.host !== undefined && { host: a.host }),
        ...(a.pid !== undefined && { pid: a.pid }),
        callsFinished: a.callsFinished,
      })),
      objectStores: this.objectStores(byHost),
      jobs: (this.jobs?.list() ?? []).map((j) => ({
        id: j.id,
        state: describeState(j),
        entrypoint: j.entrypoint.join(' '),
        submittedAt: j.submittedAt,
        ...(j.endedAt && { endedAt: j.endedAt }),
      })),
    };
  }

  /** Workers' stores summed per host (a node's limit is split among its workers). */
  private objectStores(byHost: Map<string, NodeInfo>): ObjectStoreInfo[] {
    const per = new Map<string, ObjectStoreInfo>();
    for (const { hello, sample } of this.stores.values()) {
      const host = byHost.get(hello.host)?.host ?? hello.hostname;
      const s = per.get(host) ?? { host, inMemoryBytes: 0, spilledBytes: 0, limitBytes: 0 };
      s.inMemoryBytes += sample.inMemory;
      s.spilledBytes += sample.spilled;
      s.limitBytes += sample.limit;
      per.set(host, s);
    }
    return [...per.values()];
  }

  logs(rank: number, tail: number): string[] | undefined {
    const w = this.head.workers.get(rank);
    const at = w
      ? { host: w.client.hello.host, pid: w.client.hello.pid }
      : this.exits.find((e) => e.workerId === rank);
    if (!at) return undefined;
    return this.rings.get(`${at.host}|${at.pid}`)?.tail(tail) ?? [];
  }
}

/** Hosts that share a name (network namespaces of one machine) get "#2", "#3" after it (in place). */
function distinctNames(nodes: NodeInfo[]): void {
  const seen = new Map<string, number>();
  for (const n of nodes) {
    const k = (seen.get(n.host) ?? 0) + 1;
    seen.set(n.host, k);
    if (k > 1) n.host = `${n.host}#${k}`;
  }
}
