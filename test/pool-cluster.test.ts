// The persistent cluster and the per-job pool through the real CLI: `tsrun cluster start --head`, two
// node processes joining over loopback, status, a driver attaching by address, a driver without the
// secret refused, a stopped head failing pending refs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { connect, HeadLostError, PoolConnectError } from '../src/pool/index.js';
import type * as Tasks from './fixtures/pool/tasks.js';
import { runTsrun as tsrun } from './helpers/ssh-tsrun.js';

const DRIVER = new URL('./fixtures/pool/driver.ts', import.meta.url).pathname;
const TASKS = new URL('./fixtures/pool/tasks.ts', import.meta.url);

t.test('persistent cluster: head, two nodes joining over loopback, drivers, stop', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-cluster-'));
  const env = { TSRUN_CLUSTER_DIR: dir, TSRUN_POOL_ADDRESS: '', TSRUN_POOL_SECRET: '' };
  t.teardown(async () => {
    await tsrun(['cluster', 'stop'], env);
    rmSync(dir, { recursive: true, force: true });
  });
  const head = await tsrun(['cluster', 'start', '--head', '--port', '0', '--workers', '0'], env);
  t.equal(head.code, 0, head.stderr);
  const address = /head serving at (\S+)/.exec(head.stdout)?.[1] ?? '';
  t.match(address, /^127\.0\.0\.1:\d+$/);
  t.equal(statSync(join(dir, 'secret')).mode & 0o777, 0o600, 'secret file is user-only');
  const secret = readFileSync(join(dir, 'secret'), 'utf8').trim();
  for (let i = 0; i < 2; i++) {
    // Each node gets the secret through its environment, as it would on another host.
    const node = await tsrun(['cluster', 'start', '--address', address, '--workers', '1'], {
      ...env,
      TSRUN_CLUSTER_DIR: join(dir, `node${i}`),
      TSRUN_POOL_SECRET: secret,
    });
    t.equal(node.code, 0, node.stderr);
  }
  let status = '';
  for (let i = 0; i < 100 && !/workers: 2 /.test(status); i++) {
    status = (await tsrun(['cluster', 'status'], env)).stdout;
    if (!/workers: 2 /.test(status)) await new Promise((r) => setTimeout(r, 100));
  }
  t.match(status, /workers: 2 /, 'status counts both workers');
  t.equal(status.match(/1 workers \(\d busy, \d idle\)/g)?.length, 2, 'one line per node with busy/idle');
  t.match(status, /memory .* GiB used of .* GiB/, 'memory per node');
  t.match(status, /queued tasks: 0/);

  const driver = spawn(process.execPath, ['--import', 'tsx', DRIVER], {
    env: { ...process.env, ...env, TSRUN_POOL_ADDRESS: address, TSRUN_POOL_SECRET: secret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  driver.stdout.on('data', (d) => {
    out += d;
  });
  await new Promise((r) => driver.on('close', r));
  const res = JSON.parse(out);
  t.same(
    res.squares,
    Array.from({ length: 40 }, (_, i) => i * i),
    'driver attached by TSRUN_POOL_ADDRESS',
  );
  t.equal(res.pids.length, 2, 'tasks ran on both nodes’ workers');
  t.equal(res.poolWorkers, 2, 'pool.workers counts the cluster’s workers');

  const wrong = await connect({ address, secret: 'f'.repeat(64), timeoutMs: 5000 }).catch((e) => e);
  t.ok(wrong instanceof PoolConnectError, `a driver with the wrong secret is refused (${wrong})`);
  t.match(String(wrong), /refused our credentials/);

  const pool = await connect({ address, secret });
  const sleep = pool.remote<typeof Tasks.sleepThen>(TASKS, 'sleepThen');
  const pending = sleep(20_000, 1);
  await new Promise((r) => setTimeout(r, 200));
  const stop = await tsrun(['cluster', 'stop'], env);
  t.equal(stop.code, 0, stop.stderr);
  const err = await pool.get(pending).catch((e) => e);
  t.ok(err instanceof HeadLostError, `a pending ref rejects when the head goes away (${err})`);
  await pool.close();
  const after = await tsrun(['cluster', 'status'], env);
  t.not(after.code, 0, 'status after stop fails');
  t.match(after.stderr, /no cluster address|no pool head answered/);
});
