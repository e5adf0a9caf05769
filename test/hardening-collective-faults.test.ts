// Faults under load, through the real launcher: 4 ranks loop over mixed collectives while one rank is
// SIGKILLed at a random moment (20 runs), and one rank is paused with SIGSTOP past the timeout. Every run
// must end fast with the right typed error on the survivors, one root-cause block, and no process left.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { jsonLines, waitForNoProcesses } from './fixtures/hardening/procs.js';
import { startTsrun } from './helpers/ssh-tsrun.js';

const PROGRAM = new URL('./fixtures/hardening/mixed-loop.ts', import.meta.url).pathname;
const RUNS = Number(process.env.HARDEN_KILL_RUNS ?? 20);
const WORLD = 4;

interface Line {
  rank: number;
  pid?: number;
  error?: string;
  message?: string;
  ms?: number;
}

function startJob(runId: string, env: string[] = [], graceMs = 3000) {
  return startTsrun([
    '--nproc-per-node',
    String(WORLD),
    '--kill-grace-ms',
    String(graceMs),
    '-x',
    `HARDEN_RUN=${runId}`,
    ...env.flatMap((e) => ['-x', e]),
    PROGRAM,
  ]);
}

async function rankPids(run: ReturnType<typeof startJob>): Promise<number[]> {
  const lines = await Promise.all(
    Array.from({ length: WORLD }, (_, r) => run.waitFor(new RegExp(`^\\{"rank":${r},"pid"`), 60_000)),
  );
  return lines.map((l) => (JSON.parse(l) as Line).pid as number);
}

interface KillRun {
  victim: number;
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
  left: number[];
}

async function killRun(): Promise<KillRun> {
  const runId = randomUUID();
  const run = startJob(runId);
  const pids = await rankPids(run);
  const victim = Math.floor(Math.random() * WORLD);
  await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 1000)));
  const t0 = Date.now();
  process.kill(pids[victim], 'SIGKILL');
  const r = await run.result;
  const left = await waitForNoProcesses('HARDEN_RUN', runId, 5000);
  return { victim, ms: Date.now() - t0, code: r.code, stdout: r.stdout, stderr: r.stderr, left };
}

t.test(`SIGKILL of a random rank at a random moment, ${RUNS} runs of ${WORLD} ranks`, async (t) => {
  let worstMs = 0;
  let orphans = 0;
  // Two jobs at a time: start-up (tsx in 4 processes) dominates a run, and the timing that matters is
  // measured from each kill.
  for (let i = 0; i < RUNS; i += 2) {
    const batch = await Promise.all(Array.from({ length: Math.min(2, RUNS - i) }, () => killRun()));
    for (const [j, r] of batch.entries()) {
      const tag = `run ${i + j + 1}, rank ${r.victim} killed`;
      worstMs = Math.max(worstMs, r.ms);
      orphans += r.left.length;
      t.ok(r.ms < 10_000, `${tag}: clean stop in ${r.ms} ms`);
      t.equal(r.code, 137, `${tag}: tsrun exits 128 + SIGKILL`);
      t.equal(r.stderr.match(/root cause:/g)?.length, 1, `${tag}: one root-cause block`);
      t.match(r.stderr, new RegExp(`rank: +${r.victim}\\n {4}status: killed by signal SIGKILL`), tag);
      t.same(r.left, [], `${tag}: no orphan process`);
      const errors = jsonLines<Line>(r.stdout).filter((l) => l.error);
      for (let rank = 0; rank < WORLD; rank++) {
        if (rank === r.victim) continue;
        const e = errors.find((l) => l.rank === rank);
        t.equal(e?.error, 'PeerLostError', `${tag}: rank ${rank} got ${e?.error}: ${e?.message}`);
        t.match(
          e?.message ?? '',
          new RegExp(`rank ${r.victim}\\b`),
          `${tag}: rank ${rank} names the lost rank`,
        );
      }
    }
  }
  t.comment(`measured: ${RUNS} SIGKILLs, worst kill -> clean stop ${worstMs} ms, orphans ${orphans}`);
});

t.test('ranks calling different lengths in a mixed loop: CollectiveMismatchError within 2 s', async (t) => {
  const runId = randomUUID();
  const odd = 1 + Math.floor(Math.random() * (WORLD - 1));
  const r = await startJob(runId, [`HARDEN_MISMATCH_RANK=${odd}`]).result;
  t.same(await waitForNoProcesses('HARDEN_RUN', runId, 5000), [], 'no process left');
  t.equal(r.code, 1, "tsrun exits with the failing rank's code");
  const errors = jsonLines<Line>(r.stdout).filter((l) => l.error);
  t.equal(errors.length, WORLD, 'every rank reported the mismatch itself');
  for (const e of errors) {
    t.equal(e.error, 'CollectiveMismatchError', `rank ${e.rank}: ${e.message}`);
    t.match(e.message ?? '', /length 17/, 'names the odd call');
    t.match(e.message ?? '', /length 16/, 'names the expected call');
    t.ok((e.ms ?? 1e9) < 2000, `rank ${e.rank} failed ${e.ms} ms into the loop`);
  }
});

t.test('a rank paused with SIGSTOP past the timeout: CollectiveTimeoutError naming it', async (t) => {
  const runId = randomUUID();
  const run = startJob(runId, ['HARDEN_TIMEOUT_MS=1500'], 1000);
  const pids = await rankPids(run);
  const paused = 1 + Math.floor(Math.random() * (WORLD - 1));
  await new Promise((r) => setTimeout(r, 300));
  process.kill(pids[paused], 'SIGSTOP');
  const t0 = Date.now();
  const r = await run.result;
  const ms = Date.now() - t0;
  // The stopped rank must still die: SIGKILL works on a stopped process, SIGTERM would stay pending.
  const left = await waitForNoProcesses('HARDEN_RUN', runId, 8000);
  t.same(left, [], 'no process left, the paused rank included');
  t.ok(ms < 15_000, `job ended ${ms} ms after the pause`);
  const errors = jsonLines<Line>(r.stdout).filter((l) => l.error);
  const others = errors.filter((l) => l.rank !== paused);
  t.ok(others.length >= 1, 'the other ranks reported an error');
  for (const e of others) {
    t.equal(e.error, 'CollectiveTimeoutError', `rank ${e.rank}: ${e.message}`);
    t.match(e.message ?? '', new RegExp(`rank ${paused}\\b`), `rank ${e.rank} names the paused rank`);
  }
  t.notOk(
    errors.some((l) => l.rank === paused),
    'the paused rank printed nothing',
  );
  t.match(r.stderr, /root cause:/);
  t.comment(`measured: SIGSTOP -> job end ${ms} ms (timeout 1500 ms, kill grace 1000 ms)`);
});
