// The same-host shared-memory data plane through the public API, on real processes: slot files are private
// to the job and gone after it, results are bitwise identical across ranks, a rank killed mid-transfer is
// reported as PeerLostError, and files a SIGKILLed job left behind are swept by the next job.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { runRanksSettled } from 'tsrun/testing';
import type { ShmSeen } from './fixtures/spmd/shm.js';

const MODULE = new URL('./fixtures/spmd/shm.ts', import.meta.url);

function leftovers(dir: string, pids: number[]): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => pids.some((p) => f.startsWith(`p${p}-`)));
}

t.test('large collectives: private slot files, identical results, nothing left after exit', async (t) => {
  const out = await runRanksSettled<ShmSeen>({ timeoutMs: 120_000 }, 3, MODULE, 'largeCollectives');
  const seen = out.map((o) => {
    if (!o.ok) throw o.error;
    return o.value;
  });
  for (const s of seen) {
    t.ok(s.correct, `rank ${seen.indexOf(s)}: all-reduce, broadcast and all-gather values are right`);
    t.equal(s.dirMode, 0o700, 'the job directory is 0700');
    t.match(s.dir, /tsrun-\d+\/[0-9a-f]{12}$/, 'under a per-user base, named by the job id');
    for (const f of s.files) {
      t.match(f.name, /^p\d+-s\d-d\d$/, `derived name ${f.name}`);
      t.equal(f.mode, 0o600, `${f.name} is 0600`);
    }
    t.same(s.hashes, seen[0].hashes, 'results are bitwise identical to rank 0');
  }
  t.ok(seen[0].files.length >= 3, `slot files existed during the job (${seen[0].files.length})`);
  t.same(
    leftovers(
      seen[0].dir,
      seen.map((s) => s.pid),
    ),
    [],
    'every slot file is removed at exit',
  );
});

t.test('a rank SIGKILLed mid-transfer: PeerLostError on every survivor, its files removed', async (t) => {
  const world = 3;
  const t0 = Date.now();
  const out = await runRanksSettled<{ name: string; message: string; ms: number; dir: string }>(
    { timeoutMs: 60_000 },
    world,
    MODULE,
    'killedWhileSending',
  );
  const victim = out[world - 1];
  t.notOk(victim.ok, 'the victim died');
  if (!victim.ok) t.match(victim.error.message, /SIGKILL/);
  let dir = '';
  for (const o of out.slice(0, world - 1)) {
    const v = o.ok ? o.value : undefined;
    t.equal(v?.name, 'PeerLostError', `rank ${o.rank}: ${v?.message}`);
    t.match(v?.message ?? '', new RegExp(`rank ${world - 1}`), 'names the lost rank');
    dir = v?.dir ?? dir;
  }
  t.ok(Date.now() - t0 < 45_000, 'the run ended promptly');
  t.same(
    existsSync(dir) ? readdirSync(dir) : [],
    [],
    'no slot file of the job is left, the victim’s included',
  );
});

t.test('slot files of a SIGKILLed job are swept when the next job starts', async (t) => {
  // A pid that is certainly dead: a child that has exited.
  const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid;
  const uid = process.getuid?.() ?? 0;
  const base = path.join(existsSync('/dev/shm') ? '/dev/shm' : '/tmp', `tsrun-${uid}`);
  const stale = path.join(base, 'feedfacecafe');
  mkdirSync(stale, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(stale, `p${dead}-s0-d1`), 'stale', { mode: 0o600 });
  writeFileSync(path.join(stale, `p${process.pid}-s0-d1`), 'live', { mode: 0o600 });
  const out = await runRanksSettled<ShmSeen>({ timeoutMs: 120_000 }, 2, MODULE, 'largeCollectives');
  t.ok(
    out.every((o) => o.ok),
    'the next job ran',
  );
  t.notOk(existsSync(path.join(stale, `p${dead}-s0-d1`)), 'the dead writer’s file is gone');
  t.ok(existsSync(path.join(stale, `p${process.pid}-s0-d1`)), 'a live writer’s file is kept');
  spawnSync('rm', ['-rf', stale]);
});

t.test('allGather into a caller buffer; a wrong length fails every rank at once', async (t) => {
  const out = await runRanksSettled<{ inPlace: boolean; error: string }>(
    { timeoutMs: 60_000 },
    3,
    MODULE,
    'gatherOut',
  );
  for (const o of out) {
    if (!o.ok) throw o.error;
    t.ok(o.value.inPlace, `rank ${o.rank}: the parts are views of out with the right values`);
    t.match(
      o.value.error,
      /(RangeError|TsrunError): allGather: out has \d+ elements on rank 1/,
      `rank ${o.rank}`,
    );
  }
});

t.test(
  'reduceScatter into a new result or a caller buffer, x unmodified; a wrong out fails every rank',
  async (t) => {
    const out = await runRanksSettled<{ failures: string[]; error: string }>(
      { timeoutMs: 60_000 },
      3,
      MODULE,
      'reduceScatterOut',
    );
    for (const o of out) {
      if (!o.ok) throw o.error;
      t.same(o.value.failures, [], `rank ${o.rank}: every block exact, x unmodified`);
      t.match(
        o.value.error,
        /(RangeError|TsrunError): reduceScatter: out has \d+ elements on rank 1 but its block/,
        `rank ${o.rank}`,
      );
    }
  },
);
