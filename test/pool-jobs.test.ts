// `tsrun job` against a real persistent cluster (`tsrun cluster start --head`): a submitted driver that
// runs tasks on the cluster's worker, a failing script's exit code, `logs --follow` streaming until the
// job ends, `stop` taking the driver's whole process group with it, and a client without the secret.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { JobClient } from '../src/pool/jobs/job-client.js';
import { describeState, isTerminal } from '../src/pool/jobs/job-types.js';
import { groupMembers } from '../src/process/process-group.js';
import { repoRoot, startTsrun, runTsrun as tsrun } from './helpers/ssh-tsrun.js';

const DRIVER = 'test/fixtures/pool/job-driver.ts';

/** Alive and not a zombie (a zombie holds no resources; its parent has gone). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

t.test('tsrun job on a persistent cluster', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-jobs-'));
  const env = { TSRUN_CLUSTER_DIR: dir, TSRUN_POOL_ADDRESS: '', TSRUN_POOL_SECRET: '' };
  t.teardown(async () => {
    await tsrun(['cluster', 'stop'], env);
    rmSync(dir, { recursive: true, force: true });
  });
  const head = await tsrun(['cluster', 'start', '--head', '--port', '0', '--workers', '1'], env);
  t.equal(head.code, 0, head.stderr);
  const address = /head serving at (\S+)/.exec(head.stdout)?.[1] ?? '';
  const submit = async (args: string[]) => {
    const r = await tsrun(['job', 'submit', ...args], env);
    t.equal(r.code, 0, `submit ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  // Polling goes through the client the CLI uses, in this process: each tsrun start costs seconds here.
  const client = await JobClient.open(address, readFileSync(join(dir, 'secret'), 'utf8').trim());
  t.teardown(() => client.close());
  const status = async (id: string) => describeState(await client.status(id));
  const final = (id: string) =>
    until(`job ${id} to end`, async () => {
      const j = await client.status(id);
      return isTerminal(j.state) ? describeState(j) : undefined;
    });

  // Started in parallel: on two shared cores each tsrun costs seconds of start-up.
  const okId = submit([
    '--address',
    address,
    '--working-dir',
    join(repoRoot, 'test'),
    '--env',
    'JOB_NOTE=from-env',
    '--',
    '../' + DRIVER,
    'tasks',
  ]);
  const failId = submit(['--', DRIVER, 'fail', '3']);
  const hangId = submit(['--', DRIVER, 'hang']);
  const gate = join(dir, 'gate');
  const gateId = submit(['--', DRIVER, 'gate', gate]);

  await t.test('a submitted driver runs tasks on the cluster and succeeds', async (t) => {
    const id = await okId;
    t.match(id, /^job-\d{8}-[0-9a-f]{8}$/, 'submit prints the job id');
    t.equal(await final(id), 'SUCCEEDED');
    const logs = await tsrun(['job', 'logs', id], env);
    t.equal(logs.code, 0, logs.stderr);
    t.match(logs.stdout, /squares 1,4,9,16 /, 'the driver reached the cluster’s worker');
    t.match(logs.stdout, /note=from-env /, '--env reaches the driver');
    t.match(logs.stdout, new RegExp(`cwd=${join(repoRoot, 'test')}$`, 'm'), '--working-dir is its cwd');
    const list = await tsrun(['job', 'list'], env);
    t.match(list.stdout, new RegExp(`${id}  SUCCEEDED  \\.\\./${DRIVER} tasks`), 'list shows it');
  });

  await t.test('a failing script gives FAILED with its exit code', async (t) => {
    const id = await failId;
    await final(id);
    const cli = await tsrun(['job', 'status', id], env);
    t.equal(cli.stdout, 'FAILED (exit code 3)\n', cli.stderr);
    const logs = await client.logs(id, 0);
    t.match(Buffer.from(logs.data).toString(), /failing on purpose/, 'stderr is in the log');
  });

  await t.test('logs --follow streams until the job ends', async (t) => {
    const id = await gateId;
    const follow = startTsrun(['job', 'logs', id, '--follow'], env);
    await follow.waitFor(/^line 1$/, 60_000);
    t.equal(follow.proc.exitCode, null, 'still following while the job runs');
    t.equal(await status(id), 'RUNNING');
    writeFileSync(gate, '');
    const r = await follow.result;
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, 'line 1\nline 2\n', 'every line once, then it returns');
    t.equal(await status(id), 'SUCCEEDED', 'it returned because the job ended');
    const cli = await tsrun(['job', 'status', id], env);
    t.equal(cli.stdout, 'SUCCEEDED\n', cli.stderr);
  });

  await t.test('stop (SIGTERM, then SIGKILL) gives STOPPED and leaves no process behind', async (t) => {
    const id = await hangId;
    const pids = await until('the hanging driver to print its pids', async () => {
      const out = Buffer.from((await client.logs(id, 0)).data).toString();
      const m = /pids driver=(\d+) grandchild=(\d+)/.exec(out);
      return m ? { driver: Number(m[1]), grandchild: Number(m[2]) } : undefined;
    });
    t.ok(running(pids.grandchild), 'the driver’s child runs before the stop');
    const stop = await tsrun(['job', 'stop', id], env);
    t.equal(stop.code, 0, stop.stderr);
    t.equal(stop.stdout.trim(), `${id} STOPPED`);
    t.equal(await status(id), 'STOPPED');
    t.same(groupMembers(pids.driver), [], 'nothing is left in the driver’s process group');
    t.notOk(running(pids.driver), 'the driver is gone');
    t.notOk(running(pids.grandchild), 'the driver’s child is gone');
    const logs = Buffer.from((await client.logs(id, 0)).data).toString();
    t.match(logs, /SIGTERM ignored/, 'SIGTERM came first; the SIGKILL after the grace period ended it');
  });

  await t.test('bad requests get a clear error', async (t) => {
    const [missing, unknown, badEnv] = await Promise.all([
      tsrun(['job', 'submit', '--', 'no-such-script.ts'], env),
      tsrun(['job', 'status', 'job-nope'], env),
      tsrun(['job', 'submit', '--env', 'NOEQUALS', '--', DRIVER], env),
    ]);
    t.equal(missing.code, 1);
    t.match(missing.stderr, /script not found on the head's host: .*no-such-script\.ts/);
    t.equal(unknown.code, 1);
    t.match(unknown.stderr, /no job 'job-nope' on this cluster/);
    t.equal(badEnv.code, 2);
    t.match(badEnv.stderr, /--env NOEQUALS is not NAME=VALUE/);
  });

  await t.test('a client without the cluster secret is refused', async (t) => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'tsrun-jobs-nosecret-'));
    t.teardown(() => rmSync(elsewhere, { recursive: true, force: true }));
    const [wrong, none] = await Promise.all([
      tsrun(['job', 'list', '--address', address], {
        ...env,
        TSRUN_CLUSTER_DIR: elsewhere,
        TSRUN_POOL_SECRET: 'f'.repeat(64),
      }),
      tsrun(['job', 'submit', '--address', address, '--', DRIVER, 'tasks'], {
        ...env,
        TSRUN_CLUSTER_DIR: elsewhere,
      }),
    ]);
    t.equal(wrong.code, 1);
    t.match(wrong.stderr, /refused our credentials/);
    t.equal(none.code, 2);
    t.match(none.stderr, /no cluster secret/);
    t.notOk(existsSync(join(elsewhere, 'jobs')), 'nothing was submitted');
  });
});
