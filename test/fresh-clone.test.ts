// The README's two commands in a fresh clone whose parent folder holds nothing else: `npm ci && npm start`
// (the CI-sized profile, PageRank in both styles with its Python peer detected; the whole grid runs in
// run-all-quick.test.ts) and `npm test` on a test that reads the repository's reference data (one
// training step checked against torch's recorded gradients: quick, and it loads tfjs's wasm binaries
// from the clone's node_modules).
// Nothing outside the clone may be needed. The clone is of the committed HEAD: what a user would get.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { repoRoot } from './helpers/ssh-tsrun.js';
import { runAsUser } from './helpers/user-shell.js';

// npm ci, the main job and two test files: many minutes on a loaded 2-core machine.
t.setTimeout(1_800_000);

const parent = mkdtempSync(join(tmpdir(), 'tsrun-fresh-'));
t.teardown(() => rmSync(parent, { recursive: true, force: true }));
const clone = join(parent, 'tsrun');

t.test('git clone, npm ci: nothing beside the clone', async (t) => {
  const c = runAsUser('git', ['clone', '--quiet', '--no-hardlinks', repoRoot, clone], parent);
  t.equal(c.code, 0, c.err);
  t.same(readdirSync(parent), ['tsrun'], 'the parent folder holds only the clone');
  // npm ci takes every package from npm's cache (the lockfile names each one and its integrity).
  const ci = runAsUser('npm', ['ci', '--offline', '--no-audit', '--no-fund'], clone);
  t.equal(ci.code, 0, ci.err);
});

t.test('the main job runs in the clone, with every peer either run or skipped with a reason', async (t) => {
  const r = runAsUser(
    'npm',
    ['start', '--', '--quick', '--experiments', 'pagerank', '--peers', 'auto'],
    clone,
  );
  t.equal(r.code, 0, `${r.out}\n${r.err}`);
  const log = `${r.out}\n${r.err}`;
  t.notMatch(log, /FAILED/, 'no cell and no peer failed');
  t.notMatch(log, /\.\.\/shared/, 'nothing refers outside the clone');
  for (const line of log.split('\n').filter((l) => / peer .*skipped/.test(l))) {
    t.match(line, /skipped: .*\(apt-get install [\w.-]+\)|skipped: .* not found/, `skip says why: ${line}`);
  }
  t.ok(existsSync(join(clone, 'results', 'REPORT.md')), 'results/REPORT.md written');
  const report = readFileSync(join(clone, 'results', 'REPORT.md'), 'utf8');
  t.match(report, /pagerank/i);
});

t.test("npm test in the clone: the tests that read the repository's reference data", async (t) => {
  mkdirSync(join(clone, 'tmp'), { recursive: true });
  const r = runAsUser('npm', ['test', '--', 'test/pneumonia-torch-parity.test.ts'], clone);
  t.equal(r.code, 0, `${r.out.slice(-4000)}\n${r.err.slice(-2000)}`);
  t.match(r.out, /pneumonia-torch-parity\.test\.ts/);
});
