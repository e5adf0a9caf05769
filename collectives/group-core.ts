import { deserialize, serialize } from 'node:v8';
import {
  CollectiveMismatchError,
  CollectiveTimeoutError,
  GroupClosedError,
  PeerLostError,
} from '../src/errors.js';
import { BYTES, collectiveCounters, OPS, SECONDS } from '../src/telemetry/collective-counters.js';
import { type Header, MessageKind, makeHeader, PayloadType } from '../src/wire/index.js';
import { CallState } from './call-state.js';
import type { Comm } from './comm.js';
import { type ErrorRecord, errorFromRecord, errorToRecord } from './errors-wire.js';
import { describeCall, type Fingerprint, mismatch } from './fingerprint.js';
import { attachRecent, dumpFlight, recordCall } from './flight-recorder.js';
import { enterCall, leaveCall } from './idle-exit.js';
import { giveBackScratch, takeScratch } from './scratch-pool.js';
import type { GroupEndpoint, World } from './world.js';

/**
 * Payloads up to this size are copied before sending (cheap), so the caller may reuse its buffer at once.
 * Larger ones go zero-copy and the receiver acknowledges them; a call returns only after every ack, so
 * no buffer is handed back to the user while ZeroMQ may still be reading it.
 */
const COPY_MAX_BYTES = 64 * 1024;
/*
 * Where large-message time goes (profiled on 2 ranks, 64 MiB broadcast): the sender is idle; the receiver's
 * main thread copies each 1 MiB zeromq receive buffer into the destination (~2.3 GB/s: every message is a
 * fresh external buffer, cache-cold) and collects those buffers (~15 ms per 64 MiB). recvInto removed a
 * second copy (275 -> 59 ms); larger chunks and socket buffers changed nothing. What is left needs a path
 * without zeromq's receive buffer (same-host shared memory, or reused receive buffers).
 */

/** Header `tag` bit on collective messages: the receiver must acknowledge it. */
const ACK_REQUESTED = 1;
/** Heartbeat-kind `op` of an acknowledgement. */
const OP_ACK = 1;
/** Heartbeat-kind ops of the timeout diagnosis: "how far are you?" and its answer. */
const OP_STATUS_QUERY = 2;
const OP_STATUS_REPLY = 3;
/** How long a lost connection waits for an Abort that may explain it (see peerLost). */
const PEER_LOSS_GRACE_MS = 100;
/** How long a timed-out call waits for the other ranks to say how far they are. */
const DIAGNOSIS_MS = 1000;
/** Steps of distinct phases of one call (e.g. a length exchange, then the data) never collide. */
export const PHASE_STRIDE = 1 << 24;

interface Waiter {
  resolve: (p: Uint8Array) => void;
  call: CallState;
  peer: number;
  /** recvInto's destination: the payload is assembled there directly when it is large. */
  dst?: Uint8Array;
}

export interface CollectiveOptions {
  timeoutMs?: number;
}

/**
 * The message plumbing of one process group: sequence numbers, per-call inboxes keyed by
 * (seq, source, step), fingerprint checks, acknowledgements, timeouts, aborts and point-to-point queues.
 * The public methods live in ProcessGroup; this class knows nothing about particular collectives.
 */
export class GroupCore implements GroupEndpoint {
  private seq = 0;
  private readonly calls = new Map<number, CallState>();
  private readonly inbox = new Map<string, Uint8Array>();
  private readonly waiters = new Map<string, Waiter>();
  /** Fingerprints that arrived for calls this rank has not started yet: checked when it starts them. */
  private readonly early = new Map<number, Array<{ source: number; fp: Fingerprint }>>();
  private readonly p2p = new Map<string, Array<{ header: Header; payload: Uint8Array }>>();
  private readonly p2pWaiters = new Map<
    string,
    Array<(m: { header: Header; payload: Uint8Array }) => void>
  >();
  private readonly groupOf = new Map<number, number>();
  broken: Error | undefined;
  destroyed = false;

  constructor(
    readonly world: World,
    readonly id: number,
    /** Global rank of each group rank. */
    readonly members: readonly number[],
    readonly rank: number,
    public timeoutMs: number,
  ) {
    members.forEach((g, i) => {
      this.groupOf.set(g, i);
    });
  }

  get size(): number {
    return this.members.length;
  }

  /** Runs one collective call: fresh sequence number, its Comm, timeout and failure handling. */
  async run<T>(
    fp: Fingerprint,
    opts: CollectiveOptions | undefined,
    body: (comm: Comm, phase: (n: number) => Comm) => Promise<T>,
  ): Promise<T> {
    if (this.destroyed)
      throw new GroupClosedError('this process group was destroyed; create a new one with init()');
    if (this.broken) throw this.broken;
    const seq = ++this.seq;
    const call = new CallState(seq, fp, describeCall(fp, seq));
    this.calls.set(seq, call);
    // Recorded before the early messages are checked: a call that a peer's mismatched message breaks at its
    // start is still this rank's last call in the flight record attached to the error.
    const flight = recordCall(this.id, this.members, call);
    const early = this.early.get(seq);
    if (early) {
      this.early.delete(seq);
      for (const e of early) this.checkFingerprint(call, e.source, e.fp);
    }
    const timeoutMs = opts?.timeoutMs ?? this.timeoutMs;
    const timer = setTimeout(() => void this.diagnoseTimeout(call, timeoutMs), timeoutMs);
    const phase = (n: number): Comm => this.commFor(call, n * PHASE_STRIDE);
    enterCall();
    const started = performance.now();
    try {
      const result = await Promise.race([body(phase(0), phase), call.failed]);
      await Promise.race([call.allAcked(), call.failed]);
      flight.end();
      // Every send was acknowledged or copied: nothing reads the scratch buffers any more.
      giveBackScratch(call.scratch);
      return result;
    } catch (e) {
      flight.end(e as Error);
      attachRecent(e as Error);
      throw e;
    } finally {
      collectiveCounters[OPS] += 1;
      collectiveCounters[SECONDS] += (performance.now() - started) / 1000;
      leaveCall();
      clearTimeout(timer);
      this.calls.delete(seq);
      if (call.error) this.dropCall(seq);
    }
  }

  private hostsOfMembers: readonly number[] | null | undefined;

  /** The host index of each group rank, when the world knows its hosts (computed once). */
  private get memberHosts(): readonly number[] | undefined {
    if (this.hostsOfMembers === undefined) {
      const h = this.world.hosts;
      this.hostsOfMembers = h.length === 0 ? null : this.members.map((g) => h[g]);
    }
    return this.hostsOfMembers ?? undefined;
  }

  private commFor(call: CallState, stepBase: number): Comm {
    const hosts = this.memberHosts;
    return {
      rank: this.rank,
      size: this.size,
      ...(hosts && { hosts }),
      send: (peer, step, data) => this.sendTo(call, peer, stepBase + step, data),
      recv: (peer, step, into) => this.recvFrom(call, peer, stepBase + step, into),
      recvInto: (peer, step, dst) => this.recvInto(call, peer, stepBase + step, dst),
      sendsCompleteOnReturn: true,
      settle: () => Promise.race([call.allAcked(), call.failed]),
      note: (algorithm) => {
        call.algorithm = algorithm;
      },
      scratch: (bytes) => {
        const b = takeScratch(bytes);
        call.scratch.push(b);
        return b;
      },
    };
  }

  private sendTo(call: CallState, peer: number, step: number, data: Uint8Array): Promise<void> {
    const large = data.byteLength > COPY_MAX_BYTES;
    // A payload the transport copies before send() returns (same-host shared memory, a stream link's warm
    // buffers) needs neither our copy nor an acknowledgement.
    const transportCopies = this.world.copiesOnSend(this.members[peer], data.byteLength);
    const needsAck = large && !transportCopies;
    const payload = large || transportCopies ? data : Buffer.from(data);
    const fp = call.fp;
    const h = makeHeader({
      kind: MessageKind.Collective,
      group: this.id,
      seq: call.seq,
      op: fp.op,
      dtype: fp.dtype as Header['dtype'],
      redop: fp.redop as Header['redop'],
      count: fp.count,
      root: fp.root,
      step,
      tag: needsAck ? ACK_REQUESTED : 0,
      payloadType: PayloadType.Bytes,
    });
    if (needsAck) call.expectAck(peer);
    collectiveCounters[BYTES] += data.byteLength;
    call.bytesSent += data.byteLength;
    return this.world.send(this.members[peer], h, payload).catch((e: Error) => {
      const lost = this.world.lost.has(this.members[peer]);
      const err = lost ? new PeerLostError(this.members[peer]) : e;
      call.fail(err);
      throw err;
    });
  }

  /**
   * The message `peer` sent with `step` in this call: from the inbox, or when it arrives. With `dst`, a
   * large message that has not started arriving is assembled straight into it (see destinationFor).
   */
  private recvFrom(call: CallState, peer: number, step: number, dst?: Uint8Array): Promise<Uint8Array> {
    const key = `${call.seq}:${peer}:${step}`;
    const got = this.inbox.get(key);
    if (got) {
      this.inbox.delete(key);
      return Promise.resolve(got);
    }
    call.startWait(peer);
    return new Promise((resolve) => {
      this.waiters.set(key, { resolve, call, peer, dst });
    });
  }

  private async recvInto(call: CallState, peer: number, step: number, dst: Uint8Array): Promise<void> {
    const payload = await this.recvFrom(call, peer, step, dst);
    if (payload === dst) return;
    if (payload.byteLength !== dst.byteLength) {
      throw new CollectiveMismatchError(
        [
          { rank: this.members[this.rank], call: `${call.description} expecting ${dst.byteLength} bytes` },
          { rank: this.members[peer], call: `the same call sending ${payload.byteLength} bytes` },
        ],
        'message sizes disagree',
      );
    }
    dst.set(payload);
  }

  destinationFor(sourceGlobal: number, header: Header): Uint8Array | undefined {
    if (header.kind !== MessageKind.Collective) return undefined;
    const source = this.groupOf.get(sourceGlobal);
    if (source === undefined) return undefined;
    return this.waiters.get(`${header.seq}:${source}:${header.step}`)?.dst;
  }

  deliver(sourceGlobal: number, header: Header, payload: Uint8Array): void {
    const source = this.groupOf.get(sourceGlobal);
    if (source === undefined) return;
    switch (header.kind) {
      case MessageKind.Collective:
        this.deliverCollective(source, header, payload);
        return;
      case MessageKind.Heartbeat:
        if (header.op === OP_ACK) this.calls.get(header.seq)?.ackArrived(source);
        else if (header.op === OP_STATUS_QUERY) {
          const reply = makeHeader({
            kind: MessageKind.Heartbeat,
            group: this.id,
            seq: header.seq,
            op: OP_STATUS_REPLY,
            count: this.seq,
          });
          this.world.send(this.members[source], reply).catch(() => {});
        } else if (header.op === OP_STATUS_REPLY)
          this.statusReplies.get(header.seq)?.set(source, header.count);
        return;
      case MessageKind.PointToPoint:
        this.deliverP2P(source, header, payload);
        return;
      case MessageKind.Abort: {
        let rec: ErrorRecord;
        try {
          rec = deserialize(payload) as ErrorRecord;
        } catch {
          return;
        }
        this.breakGroup(errorFromRecord(rec, sourceGlobal), false);
        return;
      }
    }
  }

  private deliverCollective(source: number, header: Header, payload: Uint8Array): void {
    if (header.tag & ACK_REQUESTED) {
      const ack = makeHeader({
        kind: MessageKind.Heartbeat,
        group: this.id,
        seq: header.seq,
        op: OP_ACK,
        step: header.step,
      });
      this.world.send(this.members[source], ack).catch(() => {});
    }
    const fp: Fingerprint = {
      op: header.op,
      dtype: header.dtype,
      redop: header.redop,
      count: header.count,
      root: header.root,
    };
    const call = this.calls.get(header.seq);
    if (call) {
      if (!this.checkFingerprint(call, source, fp)) return;
    } else if (header.seq > this.seq) {
      const list = this.early.get(header.seq) ?? [];
      if (list.length < this.size) list.push({ source, fp });
      this.early.set(header.seq, list);
    } else {
      return; // a message of a call that already failed here
    }
    const key = `${header.seq}:${source}:${header.step}`;
    const w = this.waiters.get(key);
    if (w) {
      this.waiters.delete(key);
      w.call.endWait(w.peer);
      w.resolve(payload);
    } else {
      this.inbox.set(key, payload);
    }
  }

  private checkFingerprint(call: CallState, source: number, fp: Fingerprint): boolean {
    const why = mismatch(call.fp, fp);
    if (!why) return true;
    this.breakGroup(
      new CollectiveMismatchError(
        [
          { rank: this.members[this.rank], call: call.description },
          { rank: this.members[source], call: describeCall(fp, call.seq) },
        ],
        why,
      ),
      true,
    );
    return false;
  }

  peerLost(rank: number, reason: string): void {
    if (this.destroyed || !this.groupOf.has(rank)) return;
    // A rank that exits because the group already failed (an Abort we have not read yet) closes its
    // connections at the same moment; the short grace lets that Abort, which names the real cause, win.
    // Then tell the others, so a rank exiting after this failure is not mistaken for the lost one.
    setTimeout(() => this.breakGroup(new PeerLostError(rank, reason), true), PEER_LOSS_GRACE_MS).unref();
  }

  private readonly statusReplies = new Map<number, Map<number, number>>();

  /**
   * A call timed out: before failing, ask every member how far it got, so the error names the rank that
   * never called the collective or does not answer at all (paused, hung in a busy loop) rather than the
   * innocent neighbour this rank happened to be waiting for.
   */
  private async diagnoseTimeout(call: CallState, timeoutMs: number): Promise<void> {
    if (call.error || this.broken) return;
    const replies = new Map<number, number>();
    this.statusReplies.set(call.seq, replies);
    for (let r = 0; r < this.size; r++) {
      if (r === this.rank) continue;
      const q = makeHeader({
        kind: MessageKind.Heartbeat,
        group: this.id,
        seq: call.seq,
        op: OP_STATUS_QUERY,
      });
      this.world.send(this.members[r], q).catch(() => {});
    }
    await new Promise((r) => setTimeout(r, Math.min(DIAGNOSIS_MS, timeoutMs)));
    this.statusReplies.delete(call.seq);
    if (!this.calls.has(call.seq) || call.error) return; // completed meanwhile
    const silent: number[] = [];
    const behind: number[] = [];
    for (let r = 0; r < this.size; r++) {
      if (r === this.rank) continue;
      const seq = replies.get(r);
      if (seq === undefined) silent.push(this.members[r]);
      else if (seq < call.seq) behind.push(this.members[r]);
    }
    const waited = [...call.waitingOn.keys()].map((r) => this.members[r]);
    const blamed = [...new Set([...behind, ...silent])].sort((a, b) => a - b);
    const parts: string[] = [];
    const list = (rs: number[]) => `rank${rs.length > 1 ? 's' : ''} ${rs.join(', ')}`;
    if (behind.length) parts.push(`${list(behind)} never called it (still before call #${call.seq})`);
    if (silent.length) parts.push(`${list(silent)} did not respond at all (paused, hung or overloaded)`);
    if (!parts.length && waited.length) parts.push(`waiting for ${list(waited)}`);
    this.breakGroup(
      new CollectiveTimeoutError(
        call.description,
        timeoutMs,
        blamed.length ? blamed : waited,
        parts.join('; '),
      ),
      true,
    );
  }

  /** Fails every call of this group, now and later; tells the other members when `tell` is set. */
  breakGroup(e: Error, tell: boolean): void {
    if (this.broken || this.destroyed) return;
    this.broken = e;
    // Before the calls fail: the record then shows which ranks each running call was waiting for.
    attachRecent(e);
    dumpFlight(this.members[this.rank], e);
    for (const c of this.calls.values()) c.fail(e);
    for (const list of this.p2pWaiters.values()) list.length = 0;
    this.p2pWaiters.clear();
    for (const f of this.p2pFailers) f(e);
    this.p2pFailers.clear();
    if (tell) {
      const payload = serialize(errorToRecord(e));
      for (let r = 0; r < this.size; r++) {
        if (r === this.rank) continue;
        const h = makeHeader({
          kind: MessageKind.Abort,
          group: this.id,
          seq: this.seq,
          payloadType: PayloadType.V8,
        });
        this.world.send(this.members[r], h, payload).catch(() => {});
      }
    }
  }

  private dropCall(seq: number): void {
    const prefix = `${seq}:`;
    for (const k of this.inbox.keys()) if (k.startsWith(prefix)) this.inbox.delete(k);
    for (const k of this.waiters.keys()) if (k.startsWith(prefix)) this.waiters.delete(k);
  }

  // ---- point to point -------------------------------------------------------------------------------

  private readonly p2pFailers = new Set<(e: Error) => void>();

  private deliverP2P(source: number, header: Header, payload: Uint8Array): void {
    const key = `${source}:${header.tag}`;
    const waiting = this.p2pWaiters.get(key);
    const next = waiting?.shift();
    if (next) {
      next({ header, payload });
      return;
    }
    const q = this.p2p.get(key) ?? [];
    q.push({ header, payload });
    this.p2p.set(key, q);
  }

  sendP2P(peer: number, header: Header, payload: Uint8Array): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    return this.world.send(this.members[peer], header, payload).catch((e: Error) => {
      throw this.world.lost.has(this.members[peer]) ? new PeerLostError(this.members[peer]) : e;
    });
  }

  recvP2P(src: number, tag: number, timeoutMs: number): Promise<{ header: Header; payload: Uint8Array }> {
    if (this.broken) return Promise.reject(this.broken);
    const key = `${src}:${tag}`;
    const q = this.p2p.get(key);
    const m = q?.shift();
    if (m) return Promise.resolve(m);
    enterCall();
    return new Promise<{ header: Header; payload: Uint8Array }>((resolve, reject) => {
      const list = this.p2pWaiters.get(key) ?? [];
      let timer: NodeJS.Timeout | undefined;
      const fail = (e: Error) => {
        clearTimeout(timer);
        reject(e);
      };
      const take = (msg: { header: Header; payload: Uint8Array }) => {
        clearTimeout(timer);
        this.p2pFailers.delete(fail);
        resolve(msg);
      };
      timer = setTimeout(() => {
        const i = list.indexOf(take);
        if (i >= 0) list.splice(i, 1);
        this.p2pFailers.delete(fail);
        reject(new CollectiveTimeoutError(`recv(src ${src}, tag ${tag})`, timeoutMs, [this.members[src]]));
      }, timeoutMs);
      list.push(take);
      this.p2pWaiters.set(key, list);
      this.p2pFailers.add(fail);
    }).finally(leaveCall);
  }
}
