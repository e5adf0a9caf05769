// Secrets stay secret (never on a command line, in logs or in result files; the cluster secret file is
// 0600 and refused when others can read it), and results on disk survive a writer killed mid-write.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { repoRoot, runTsrun, startTsrun } from './helpers/ssh-tsrun.js';

const dir = mkdtempSync(join(tmpdir(), 'tsrun-hardening-secrets-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = 'c0ffee'.repeat(10) + 'beef';

function allCommandLines(): string {
  let all = '';
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      all += `${readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ')}\n`;
    } catch {}
  }
  return all;
}

t.test('the job secret is not in ps output, rank logs, stdout/stderr or result files', async (t) => {
  const csv = join(dir, 'points.csv');
  writeFileSync(
    csv,
    `x,y\n${Array.from({ length: 200 }, (_, i) => `${i % 17},${(i * 7) % 13}`).join('\n')}\n`,
  );
  const out = join(dir, 'kmeans.json');
  const logs = join(dir, 'logs');
  const run = startTsrun(
    ['--nproc-per-node', '2', '--log-dir', logs, '--tag-output', 'experiments/kmeans/spmd.ts'].concat([
      '--input',
      csv,
      '--k',
      '3',
      '--mode',
      'global',
      '--out',
      out,
    ]),
    { TSRUN_JOB_SECRET: SECRET },
  );
  // Sample every process's command line while the job runs.
  let sampled = 0;
  let leaked = false;
  while (run.proc.exitCode === null && sampled < 200) {
    if (allCommandLines().includes(SECRET)) leaked = true;
    sampled++;
    await new Promise((r) => setTimeout(r, 25));
  }
  const r = await run.result;
  t.equal(r.code, 0, r.stderr);
  t.notOk(leaked, `secret on no command line (${sampled} samples of /proc/*/cmdline)`);
  t.notOk(r.stdout.includes(SECRET) || r.stderr.includes(SECRET), 'not in tsrun output');
  const logFiles = readdirSync(logs);
  t.ok(logFiles.length >= 2, `rank logs written: ${logFiles}`);
  for (const f of logFiles) t.notOk(readFileSync(join(logs, f), 'utf8').includes(SECRET), `not in ${f}`);
  const result = readFileSync(out, 'utf8');
  t.match(JSON.parse(result), { experiment: 'kmeans', style: 'spmd' });
  t.notOk(result.includes(SECRET), 'not in the result file');
});

t.test('cluster secret file: created 0600, refused when readable by others', async (t) => {
  const cdir = join(dir, 'cluster');
  const env = { TSRUN_CLUSTER_DIR: cdir, TSRUN_POOL_ADDRESS: '', TSRUN_POOL_SECRET: '' };
  t.teardown(() => runTsrun(['cluster', 'stop'], env));
  const head = await runTsrun(['cluster', 'start', '--head', '--port', '0', '--workers', '0'], env);
  t.equal(head.code, 0, head.stderr);
  const secretFile = join(cdir, 'secret');
  t.equal(statSync(secretFile).mode & 0o777, 0o600, 'secret is 0600');
  t.equal(statSync(cdir).mode & 0o777, 0o700, 'its directory is 0700');
  t.notOk(head.stdout.includes(readFileSync(secretFile, 'utf8').trim()), 'the secret is not printed');
  chmodSync(secretFile, 0o644);
  const refused = await runTsrun(['cluster', 'status'], env);
  t.not(refused.code, 0, 'status refuses a secret file others can read');
  t.match(refused.stderr, /readable by other users \(mode 0644\); run chmod 600 /);
  chmodSync(secretFile, 0o600);
  const ok = await runTsrun(['cluster', 'status'], env);
  t.equal(ok.code, 0, ok.stderr);
});

t.test('a writer SIGKILLed mid-write leaves the previous result intact (5 kills)', async (t) => {
  const target = join(dir, 'result.json');
  const writer = new URL('./fixtures/hardening/atomic-writer.ts', import.meta.url).pathname;
  let lost = 0;
  for (let k = 0; k < 5; k++) {
    const p = spawn(process.execPath, ['--import', 'tsx', writer, target], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let written = 0;
    await new Promise<void>((resolve) => {
      p.stdout.on('data', (d: Buffer) => {
        written = Number(d.toString().trim().split('\n').pop());
        // Kill at a random point of a later write, once one complete result exists.
        if (written >= 1) setTimeout(() => p.kill('SIGKILL'), Math.random() * 150);
        resolve();
      });
    });
    await new Promise((r) => p.once('close', r));
    try {
      const v = JSON.parse(readFileSync(target, 'utf8')) as { gen: number; filler: string };
      t.ok(v.gen >= 1 && v.filler.length === 16 << 20, `kill ${k + 1}: a complete result (gen ${v.gen})`);
    } catch (e) {
      lost++;
      t.fail(`kill ${k + 1}: result unreadable: ${(e as Error).message}`);
    }
  }
  const temps = readdirSync(dir).filter((f) => f.startsWith('.result.json.'));
  t.comment(`measured: 5 kills mid-write, results lost ${lost}, temp files left ${temps.length}`);
});
