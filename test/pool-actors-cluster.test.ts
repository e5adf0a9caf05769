// Actors across drivers and launch modes, through the real CLI: a named actor created by one driver of
// a persistent cluster (`tsrun cluster start --head`) is found and called by a second driver process;
// an actor inside a `tsrun --pool` job.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ActorNotFoundError, type ActorSummary, connect } from '../src/pool/index.js';
import type * as Actors from './fixtures/pool/actors.js';
import { runTsrun as tsrun } from './helpers/ssh-tsrun.js';

const DRIVER = new URL('./fixtures/pool/actor-driver.ts', import.meta.url).pathname;
const ACTORS = new URL('./fixtures/pool/actors.ts', import.meta.url);

function runDriver(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  const p = spawn(process.execPath, ['--import', 'tsx', DRIVER, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  p.stdout.on('data', (d) => {
    out += d;
  });
  return new Promise((r) => p.on('close', (code) => r({ code, out })));
}

t.test('a named actor is found from a second driver of a persistent cluster', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-actors-'));
  const env = { TSRUN_CLUSTER_DIR: dir, TSRUN_POOL_ADDRESS: '', TSRUN_POOL_SECRET: '' };
  t.teardown(async () => {
    await tsrun(['cluster', 'stop'], env);
    rmSync(dir, { recursive: true, force: true });
  });
  const head = await tsrun(['cluster', 'start', '--head', '--port', '0', '--workers', '2'], env);
  t.equal(head.code, 0, head.stderr);
  const address = /head serving at (\S+)/.exec(head.stdout)?.[1] ?? '';
  const secret = readFileSync(join(dir, 'secret'), 'utf8').trim();
  const pool = await connect({ address, secret });
  t.teardown(() => pool.close());
  const Counter = pool.actorClass<typeof Actors.Counter>(ACTORS, 'Counter', { name: 'shared' });
  const c = Counter.create(40);
  await c.ready();
  const pid = await pool.get(c.methods.pid());
  const denv = { ...env, TSRUN_POOL_ADDRESS: address, TSRUN_POOL_SECRET: secret };
  const other = await runDriver(['lookup', 'shared'], denv);
  t.equal(other.code, 0);
  t.same(JSON.parse(other.out), { value: 41, pid }, 'the second driver called the same instance');
  t.equal(await pool.get(c.methods.incr(1)), 42, 'and its call changed the state this driver sees');
  const status = await pool.status();
  const row = (status.actors as ActorSummary[]).find((a) => a.name === 'shared');
  t.match(row, { cls: 'Counter', state: 'ALIVE', pid, restarts: 0 }, 'the head reports the actor');
  await c.kill();
  const gone = await pool.getActor('shared').catch((e) => e);
  t.ok(gone instanceof ActorNotFoundError, 'killed: the name is free again');
  const own = await runDriver([], denv);
  t.equal(own.code, 0);
  t.same(JSON.parse(own.out).incs, [11, 13, 16], 'a driver attached by address runs its own actor');
});

t.test('an actor inside a `tsrun --pool` job', async (t) => {
  const r = await tsrun(['--pool', '--nproc-per-node', '3', DRIVER], { TSRUN_POOL_ADDRESS: '' });
  t.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout.trim());
  t.same(res.incs, [11, 13, 16], 'calls ran in order on one instance');
  t.equal(res.plus, 116, "an actor call's result as a task argument");
  t.not(res.actorPid, res.driverPid, 'the actor lives in a worker rank, not the driver');
});
