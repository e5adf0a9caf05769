/**
 * Raw zeromq.js one-way bandwidth between two processes (no tsrun code), the ceiling the collectives are
 * compared against: 64 MiB sent as 1 MiB messages over ipc:// and tcp loopback, median of 5 runs.
 * Prints JSON lines {peer:"zeromq-raw", metric:"one_way_bytes_per_sec", transport, value}.
 * `sink ENDPOINT` only receives (prints nothing); `to ENDPOINT` measures towards a sink started elsewhere
 * (bench/across-hosts.ts runs the two in different network namespaces).
 */
import { fork } from 'node:child_process';
import * as zmq from 'zeromq';

const TOTAL = 64 << 20;
const CHUNK = 1 << 20;
const [role, endpoint] = process.argv.slice(2);

/** The sink's acknowledgements: the next TCP port, or the ipc path with "-ack". */
function ackEndpoint(ep: string): string {
  return ep.startsWith('tcp://') ? ep.replace(/:(\d+)$/, (_, p) => `:${Number(p) + 1}`) : `${ep}-ack`;
}

if (role === 'sink') {
  const pull = new zmq.Pull();
  await pull.bind(endpoint);
  const ack = new zmq.Push();
  await ack.bind(ackEndpoint(endpoint));
  process.send?.('ready');
  let got = 0;
  for await (const [m] of pull) {
    if (m.length === 1) break;
    got += m.length;
    if (got >= TOTAL) {
      got = 0;
      await ack.send('done');
    }
  }
  process.exit(0);
} else if (role === 'to') {
  // One measurement towards a sink someone else started (e.g. in another network namespace).
  const value = await measure(endpoint);
  console.log(
    JSON.stringify({ peer: 'zeromq-raw', metric: 'one_way_bytes_per_sec', transport: 'tcp', value }),
  );
  process.exit(0);
} else {
  for (const [transport, ep] of [
    ['ipc', `ipc:///tmp/tsrun-bw-${process.pid}`],
    ['tcp', `tcp://127.0.0.1:${20000 + (process.pid % 20000)}`],
  ] as const) {
    const child = fork(new URL(import.meta.url).pathname, ['sink', ep], { execArgv: process.execArgv });
    await new Promise((r) => child.once('message', r));
    const value = await measure(ep);
    console.log(JSON.stringify({ peer: 'zeromq-raw', metric: 'one_way_bytes_per_sec', transport, value }));
    await new Promise((r) => child.once('exit', r));
  }
  process.exit(0);
}

/** Median one-way bytes/s of 5 timed sends of TOTAL bytes to the sink at `ep`; then tells the sink to exit. */
async function measure(ep: string): Promise<number> {
  const push = new zmq.Push({ sendHighWaterMark: 1024 });
  push.connect(ep);
  const ack = new zmq.Pull();
  ack.connect(ackEndpoint(ep));
  const bufs = Array.from({ length: TOTAL / CHUNK }, () => Buffer.alloc(CHUNK, 1));
  const times: number[] = [];
  for (let rep = 0; rep < 6; rep++) {
    const t0 = process.hrtime.bigint();
    for (const b of bufs) await push.send(b);
    await ack.receive();
    if (rep > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  await push.send(Buffer.from([0]));
  times.sort((a, b) => a - b);
  push.close();
  ack.close();
  return TOTAL / times[times.length >> 1];
}
