// `tsrun --pool` with 3 ranks (driver + head on rank 0, two worker ranks): a 1,000-task job while worker
// processes are SIGKILLed 10 times. Every result must come back once, in order and correct.

import { randomUUID } from 'node:crypto';
import t from 'tap';
import { jsonLines, waitForNoProcesses } from './fixtures/hardening/procs.js';
import { alive, startTsrun } from './helpers/ssh-tsrun.js';

const DRIVER = new URL('./fixtures/hardening/kill-driver.ts', import.meta.url).pathname;

t.test('tsrun --pool: 1,000 tasks, 10 worker SIGKILLs, every result once and correct', async (t) => {
  const runId = randomUUID();
  const run = startTsrun(['--pool', '--nproc-per-node', '3', DRIVER], { HARDEN_RUN: runId });
  let stdout = '';
  run.proc.stdout!.on('data', (d: string) => {
    stdout += d;
  });
  let finished = false;
  const result = run.result.then((r) => {
    finished = true;
    return r;
  });
  const killed = new Set<number>();
  while (killed.size < 10 && !finished) {
    await new Promise((r) => setTimeout(r, 150));
    const victim = jsonLines<{ workerPid?: number }>(stdout)
      .map((l) => l.workerPid)
      .filter((p): p is number => p !== undefined && !killed.has(p) && alive(p))
      .at(-1);
    if (victim === undefined) continue;
    process.kill(victim, 'SIGKILL');
    killed.add(victim);
  }
  const r = await result;
  t.equal(killed.size, 10, 'ten workers were killed before the job ended');
  t.equal(r.code, 0, r.stderr);
  const done = jsonLines<{ done?: boolean; count: number; inOrder: boolean; wrong: number }>(r.stdout).find(
    (l) => l.done,
  );
  t.equal(done?.count, 1000, 'all 1,000 results');
  t.equal(done?.inOrder, true, 'each once, in input order');
  t.equal(done?.wrong, 0, 'every result correct');
  t.same(await waitForNoProcesses('HARDEN_RUN', runId, 5000), [], 'no worker or restarted worker left');
});
