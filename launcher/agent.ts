/**
 * The per-host agent (`tsrun --agent ...`) that the SSH launcher starts on every host: reads the job
 * secret from stdin, runs this host's ranks, reports each rank's exit as a control line, and stops its
 * ranks when stdin ends — which is also what happens when the launcher or its SSH connection dies, so a
 * lost launcher never leaves ranks behind on a remote host.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AgentRelay } from '../src/dashboard/agent-relay.js';
import { RANK_REPORTING } from '../src/dashboard/job-dashboard.js';
import { type AgentHello, encodeEvent } from '../src/process/agent-protocol.js';
import { freePort } from '../src/process/local-spawner.js';
import { readParts } from '../src/trace/recorder.js';
import type { CliOptions } from './cli-options.js';
import { UsageError } from './errors.js';
import { openFlightDir } from './flight-dumps.js';
import { NodeRun } from './node-runner.js';
import { onStopSignal, signalExitStatus } from './stop-signals.js';

function readHello(): Promise<{ hello: AgentHello; stdinClosed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin });
    let got = false;
    let closed!: () => void;
    const stdinClosed = new Promise<void>((r) => {
      closed = r;
    });
    rl.on('line', (line) => {
      if (got) return;
      got = true;
      try {
        resolve({ hello: JSON.parse(line) as AgentHello, stdinClosed });
      } catch {
        reject(new UsageError('--agent expects a JSON line on stdin (it is started by tsrun --hostfile)'));
      }
    });
    rl.on('close', () => {
      if (!got) reject(new UsageError('--agent: stdin closed before the job description arrived'));
      closed();
    });
  });
}

export async function runAgent(o: CliOptions): Promise<number> {
  if (
    o.rankOffset === undefined ||
    o.worldSize === undefined ||
    !o.masterAddr ||
    o.masterPort === undefined
  ) {
    throw new UsageError('--agent needs --rank-offset, --world-size, --master-addr and --master-port');
  }
  const { hello, stdinClosed } = await readHello();
  const masterPort = o.masterPort === 0 ? await freePort('0.0.0.0') : o.masterPort;
  const dash = hello.dashboard;
  const relay = dash && new AgentRelay(dash, (e) => process.stderr.write(encodeEvent(e)));
  // Private: the records go back in a `flight` event and the launcher writes --dump-on-failure DIR.
  const flight = openFlightDir(undefined);
  const traceDir = hello.trace ? mkdtempSync(join(tmpdir(), 'tsrun-trace-')) : undefined;
  const env = { ...hello.env, TSRUN_FLIGHT_DIR: flight.dir, ...(traceDir && { TSRUN_TRACE_DIR: traceDir }) };
  const run = new NodeRun(
    {
      script: o.script,
      scriptArgs: o.scriptArgs,
      rankOffset: o.rankOffset,
      localWorldSize: o.nprocPerNode,
      worldSize: o.worldSize,
      groupRank: o.nodeRank,
      masterAddr: o.masterAddr,
      masterPort,
      jobSecret: hello.jobSecret,
      restartCount: hello.restartCount,
      extraEnv: dash ? { ...env, ...RANK_REPORTING.rankEnv } : env,
      ...(dash && { preload: RANK_REPORTING.preload, ipc: true }),
      tagOutput: o.tagOutput,
      logDir: o.logDir,
      killGraceMs: o.killGraceMs,
    },
    (e) => process.stderr.write(encodeEvent({ ev: 'exit', ...e })),
  );
  relay?.track(
    run.job,
    run.job.procs.map((_, i) => o.rankOffset! + i),
  );
  process.stderr.write(
    encodeEvent({ ev: 'started', masterPort, pids: run.job.procs.map((p) => p.pid ?? -1) }),
  );
  let stopSignal: NodeJS.Signals | undefined;
  const dispose = onStopSignal((signal, repeated) => {
    stopSignal ??= signal;
    void run.stop(`agent received ${signal}`, repeated ? 'SIGKILL' : 'SIGTERM');
  });
  void stdinClosed.then(() => run.stop('the launcher closed the connection'));
  const result = await run.done;
  const dumps = flight.collect();
  if (dumps.length > 0) process.stderr.write(encodeEvent({ ev: 'flight', dumps }));
  if (traceDir) {
    process.stderr.write(encodeEvent({ ev: 'trace', parts: readParts(traceDir) }));
    rmSync(traceDir, { recursive: true, force: true });
  }
  relay?.finish();
  dispose();
  process.stdin.destroy();
  if (stopSignal) return signalExitStatus(stopSignal);
  return result.failure ? 1 : 0;
}
