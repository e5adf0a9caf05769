// A persistent cluster's head SIGKILLed and restarted on the same port with the same secret while a driver
// waits: the driver's pending ref and a call made afterwards both end with a clear error (no hang, and no
// silent attachment to the new head, which never saw its tasks); a new driver works with the new head.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { unusedPort } from './fixtures/hardening/loopback-sshd.js';
import { waitForNoProcesses } from './fixtures/hardening/procs.js';
import { repoRoot, runTsrun } from './helpers/ssh-tsrun.js';

const RESTART_DRIVER = new URL('./fixtures/hardening/restart-driver.ts', import.meta.url).pathname;
const DRIVER = new URL('./fixtures/pool/driver.ts', import.meta.url).pathname;

function runDriver(file: string, env: Record<string, string>) {
  const p = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => {
    out += d;
  });
  p.stderr.on('data', (d) => {
    err += d;
  });
  return {
    output: () => out,
    waitFor: (s: string) =>
      new Promise<void>((resolve) => {
        const check = () => (out.includes(s) ? resolve() : setTimeout(check, 20));
        check();
      }),
    done: new Promise<{ out: string; err: string; code: number | null }>((resolve) =>
      p.on('close', (code) => resolve({ out, err, code })),
    ),
  };
}

t.test('head restarted under a waiting driver: clear errors, then a new driver works', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-hardening-head-'));
  const secret = '7a'.repeat(32);
  const env = { TSRUN_CLUSTER_DIR: dir, TSRUN_POOL_ADDRESS: '', TSRUN_POOL_SECRET: secret };
  t.teardown(async () => {
    await runTsrun(['cluster', 'stop'], env);
    rmSync(dir, { recursive: true, force: true });
  });
  const port = await unusedPort('127.0.0.1');
  const start = () => runTsrun(['cluster', 'start', '--head', '--port', String(port), '--workers', '1'], env);
  const first = await start();
  t.equal(first.code, 0, first.stderr);
  const headPid = JSON.parse(readFileSync(join(dir, 'head.json'), 'utf8')).pid as number;
  const address = `127.0.0.1:${port}`;
  const driver = runDriver(RESTART_DRIVER, {
    ...env,
    TSRUN_POOL_ADDRESS: address,
    TSRUN_POOL_HEAD_TIMEOUT_MS: '2000',
  });
  await driver.waitFor('submitted');
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  process.kill(headPid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 200));
  const second = await start();
  t.equal(second.code, 0, `the head restarts on the same port: ${second.stderr}`);
  const r = await driver.done;
  const ms = Date.now() - t0;
  const res = JSON.parse(r.out.trim().split('\n').at(-1) ?? '{}');
  t.equal(res.pending?.name, 'HeadLostError', `pending ref: ${res.pending?.message}`);
  t.not(res.after?.name, 'ok', `a call after the loss fails: ${res.after?.name}: ${res.after?.message}`);
  t.not(res.after?.name, 'GetTimeoutError', 'it fails with a clear error, not a timeout');
  // Promptness is judged against the task, not the clock of a loaded machine: the pending ref waits on a
  // 60 s task, so an answer well before that can only come from the driver noticing the head's loss.
  t.ok(res.pending?.ms < 45_000, `the pending ref ended ${res.pending?.ms} ms after submission (task: 60 s)`);
  t.comment(`driver finished ${ms} ms after the kill`);
  const fresh = runDriver(DRIVER, { ...env, TSRUN_POOL_ADDRESS: address, POOL_TASKS: '10' });
  const f = await fresh.done;
  t.equal(f.code, 0, f.err);
  t.same(
    JSON.parse(f.out.trim()).squares,
    [0, 1, 4, 9, 16, 25, 36, 49, 64, 81],
    'a new driver runs on the new head',
  );
  const stop = await runTsrun(['cluster', 'stop'], env);
  t.equal(stop.code, 0, stop.stderr);
  // The killed head's node agent and worker must not outlive it: every cluster process carries the dir.
  t.same(await waitForNoProcesses('TSRUN_CLUSTER_DIR', dir, 12_000), [], 'no process of either head left');
});
