// A persistent cluster's head killed with SIGKILL: an attached driver's pending refs reject with
// HeadLostError instead of hanging: at once for a driver on the head's host (its Unix socket closes),
// within its head timeout (2 s here) for one attached over TCP (silence).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runTsrun as tsrun } from './helpers/ssh-tsrun.js';

const LOST_HEAD_DRIVER = new URL('./fixtures/pool/lost-head-driver.ts', import.meta.url).pathname;

for (const via of ['unix', 'tcp'] as const)
  t.test(
    `a head killed with SIGKILL: pending refs reject with HeadLostError, nothing hangs (${via})`,
    async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'tsrun-cluster-'));
      const env = { TSRUN_CLUSTER_DIR: dir, TSRUN_POOL_ADDRESS: '', TSRUN_POOL_SECRET: '' };
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      const head = await tsrun(['cluster', 'start', '--head', '--port', '0', '--workers', '1'], env);
      t.equal(head.code, 0, head.stderr);
      const info = JSON.parse(readFileSync(join(dir, 'head.json'), 'utf8'));
      const driver = spawn(process.execPath, ['--import', 'tsx', LOST_HEAD_DRIVER], {
        env: {
          ...process.env,
          ...env,
          TSRUN_POOL_ADDRESS: via === 'unix' ? info.address : `tcp://${info.address}`,
          TSRUN_POOL_HEAD_TIMEOUT_MS: '2000',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      const submitted = new Promise<void>((resolve) => {
        driver.stdout.on('data', (d) => {
          out += d;
          if (out.includes('submitted')) resolve();
        });
      });
      await submitted;
      await new Promise((r) => setTimeout(r, 300));
      process.kill(info.pid, 'SIGKILL');
      await new Promise((r) => driver.on('close', r));
      const res = JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
      t.equal(res.name, 'HeadLostError');
      t.match(res.message, via === 'unix' ? /connection to the head ended/ : /no message for 2000 ms/);
      t.ok(res.ms < 10_000, `rejected ${res.ms} ms after the kill`);
    },
  );
