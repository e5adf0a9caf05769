// `tsrun --pool` through the real CLI: rank 0 runs the driver against its own head, the other ranks
// serve as workers; a failing driver fails the job. And `tsrun cluster` usage errors.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runTsrun as tsrun } from './helpers/ssh-tsrun.js';

const DRIVER = new URL('./fixtures/pool/driver.ts', import.meta.url).pathname;

t.test('tsrun --pool: rank 0 drives, the other ranks are workers', async (t) => {
  const r = await tsrun(['--pool', '--nproc-per-node', '3', DRIVER, '--size', '7'], {
    TSRUN_POOL_ADDRESS: '',
  });
  t.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout.trim());
  t.same(
    res.squares,
    Array.from({ length: 40 }, (_, i) => i * i),
  );
  t.equal(res.workers, 2, 'ranks 1 and 2 serve as workers');
  t.equal(res.poolWorkers, 2, 'pool.workers says so too');
  t.equal(res.pids.length, 2, 'both ran tasks');
  t.same(res.argv, ['--size', '7'], 'the driver gets its own arguments');
  const failing = await tsrun(['--pool', '--nproc-per-node', '2', DRIVER], {
    POOL_FAIL: '1',
    TSRUN_POOL_ADDRESS: '',
  });
  t.not(failing.code, 0, 'a failing driver fails the job');
  t.match(failing.stderr, /driver failed on purpose/);
});

t.test('tsrun cluster usage errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-cluster-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { TSRUN_CLUSTER_DIR: dir, TSRUN_POOL_ADDRESS: '', TSRUN_POOL_SECRET: '' };
  const both = await tsrun(['cluster', 'start', '--head', '--address', '1.2.3.4:5'], env);
  t.equal(both.code, 2);
  t.match(both.stderr, /exactly one of --head or --address/);
  const nosecret = await tsrun(['cluster', 'start', '--address', '127.0.0.1:1'], env);
  t.equal(nosecret.code, 2);
  t.match(nosecret.stderr, /no cluster secret/);
  const status = await tsrun(['cluster', 'status'], env);
  t.equal(status.code, 2);
  t.match(status.stderr, /no cluster address/);
});
