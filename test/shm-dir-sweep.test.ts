import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { sweepStale } from '../src/transport/shm-dir.js';

const base = mkdtempSync(path.join(tmpdir(), 'tsrun-sweep-test-'));
t.teardown(() => rmSync(base, { recursive: true, force: true }));

t.test(
  'a job directory made a moment ago is kept though empty (its ranks have not written yet)',
  async (t) => {
    const fresh = path.join(base, 'fresh');
    mkdirSync(fresh);
    sweepStale(base);
    t.ok(existsSync(fresh));
  },
);

t.test('an empty job directory left for minutes is removed', async (t) => {
  const old = path.join(base, 'old');
  mkdirSync(old);
  const then = (Date.now() - 5 * 60_000) / 1000;
  utimesSync(old, then, then);
  sweepStale(base);
  t.notOk(existsSync(old));
});

t.test('dead writers’ files go, live writers’ files and unknown names stay', async (t) => {
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  const job = path.join(base, 'job');
  mkdirSync(job);
  writeFileSync(path.join(job, `p${dead}-s0-d1`), '');
  writeFileSync(path.join(job, `p${process.pid}-s1-d0`), '');
  writeFileSync(path.join(job, 'notes.txt'), '');
  sweepStale(base);
  t.notOk(existsSync(path.join(job, `p${dead}-s0-d1`)));
  t.ok(existsSync(path.join(job, `p${process.pid}-s1-d0`)));
  t.ok(existsSync(path.join(job, 'notes.txt')));
});
