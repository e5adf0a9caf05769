/**
 * Raw zeromq.js one-way bandwidth between two processes (no tsrun code), the ceiling the collectives are
 * compared against: 64 MiB sent as 1 MiB messages over ipc:// and tcp loopback, median of 5 runs.
 * Prints JSON lines {peer:"zeromq-raw", metric:"one_way_bytes_per_sec", transport, value}.
 */
import { fork } from 'node:child_process';
import * as zmq from 'zeromq';

const TOTAL = 64 << 20;
const CHUNK = 1 << 20;
const [role, endpoint] = process.argv.slice(2);

if (role === 'sink') {
  const pull = new zmq.Pull();
  await pull.bind(endpoint);
  const ack = new zmq.Push();
  await ack.bind(`${endpoint}-ack`.replace(/:(\d+)-ack$/, (_, p) => `:${Number(p) + 1}`));
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
} else {
  const results: Array<{ transport: string; value: number }> = [];
  for (const [transport, ep] of [
    ['ipc', `ipc:///tmp/tsrun-bw-${process.pid}`],
    ['tcp', `tcp://127.0.0.1:${20000 + (process.pid % 20000)}`],
  ] as const) {
    const child = fork(new URL(import.meta.url).pathname, ['sink', ep], { execArgv: process.execArgv });
    await new Promise((r) => child.once('message', r));
    const push = new zmq.Push({ sendHighWaterMark: 1024 });
    push.connect(ep);
    const ack = new zmq.Pull();
    ack.connect(`${ep}-ack`.replace(/:(\d+)-ack$/, (_, p) => `:${Number(p) + 1}`));
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
    const value = TOTAL / times[times.length >> 1];
    results.push({ transport, value });
    console.log(JSON.stringify({ peer: 'zeromq-raw', metric: 'one_way_bytes_per_sec', transport, value }));
    push.close();
    ack.close();
    await new Promise((r) => child.once('exit', r));
  }
  process.exit(0);
}
