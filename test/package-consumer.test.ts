// tsrun as a user gets it: `npm pack`, the tarball installed into a new project outside the repository
// (its dependencies from npm's cache), then that project's TypeScript and JavaScript SPMD programs under
// `npx tsrun`, runRanks under tap and under node:test, a strict tsc run over the package's .d.ts files
// (skipLibCheck false), and the embedded pool from plain JavaScript.
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { repoRoot } from './helpers/ssh-tsrun.js';
import { runAsUser } from './helpers/user-shell.js';

const FIXTURES = new URL('./fixtures/consumer/', import.meta.url);

// Pack, install and five programs: minutes on a loaded 2-core machine.
t.setTimeout(1_200_000);

function versionOf(pkg: string): string {
  return JSON.parse(readFileSync(join(repoRoot, 'node_modules', pkg, 'package.json'), 'utf8')).version;
}

const work = mkdtempSync(join(tmpdir(), 'tsrun-consumer-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const project = join(work, 'project');

t.before(() => {
  // prepack builds dist/ (tsc), so this is also the test of the build.
  const pack = runAsUser('npm', ['pack', '--pack-destination', work], repoRoot);
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.err}`);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack left no tarball in ${work}`);
  mkdirSync(project, { recursive: true });
  // tap's TypeScript plugin (a ts-node fork) does not load with TypeScript 7, which has no JavaScript API:
  // a project on TypeScript 7 drops it, as this repository does (tsx or tsrun run the TypeScript).
  const manifest = {
    name: 'my-spmd-app',
    version: '1.0.0',
    private: true,
    type: 'module',
    tap: {
      plugin: ['!@tapjs/typescript'],
      'disable-coverage': true,
      'allow-incomplete-coverage': true,
      timeout: 600,
    },
  };
  writeFileSync(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const f of readdirSync(FIXTURES)) copyFileSync(new URL(f, FIXTURES), join(project, f));
  // Dependencies come from npm's cache (filled by the repository's own `npm ci`); only package metadata
  // that the cache lacks is asked of the registry.
  const install = runAsUser(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      join(work, tarball),
      `typescript@${versionOf('typescript')}`,
      `tap@${versionOf('tap')}`,
    ],
    project,
    900_000,
  );
  if (install.code !== 0) throw new Error(`npm install of the tarball failed:\n${install.err}`);
  const tapBuild = runAsUser('npx', ['tap', 'build'], project);
  if (tapBuild.code !== 0) throw new Error(`tap build failed:\n${tapBuild.err}`);
});

t.test('the tarball ships the library, not the repository', async (t) => {
  const listing = runAsUser('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], repoRoot);
  t.equal(listing.code, 0, listing.err);
  const files = (JSON.parse(listing.out) as Array<{ files: Array<{ path: string }> }>)[0].files.map(
    (f) => f.path,
  );
  t.ok(files.includes('bin/tsrun.js'), 'bin/tsrun.js');
  t.ok(
    files.includes('dist/src/index.js') && files.includes('dist/src/index.d.ts'),
    'compiled entry and types',
  );
  t.same(
    files.filter((f) => /^(test|bench|experiments|\.ci|src|collectives|launcher)\//.test(f)),
    [],
    'no tests, benchmarks, experiments, CI or TypeScript sources',
  );
});

function rankLines(out: string): Array<Record<string, unknown>> {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .sort((a, b) => Number(a.rank) - Number(b.rank));
}

t.test('npx tsrun runs a TypeScript SPMD program (tsx from the package)', async (t) => {
  const r = runAsUser('npx', ['tsrun', '--standalone', '--nproc-per-node', '3', 'hello.ts'], project);
  t.equal(r.code, 0, r.err);
  t.same(
    rankLines(r.out).map((l) => [l.lang, l.rank, l.size, l.sum]),
    [
      ['ts', 0, 3, 6],
      ['ts', 1, 3, 6],
      ['ts', 2, 3, 6],
    ],
  );
});

t.test('npx tsrun runs a JavaScript SPMD program with plain node', async (t) => {
  const r = runAsUser('npx', ['tsrun', '--standalone', '--nproc-per-node', '3', 'hello.mjs'], project);
  t.equal(r.code, 0, r.err);
  const lines = rankLines(r.out);
  t.same(
    lines.map((l) => [l.lang, l.rank, l.size, l.sum]),
    [
      ['js', 0, 3, 6],
      ['js', 1, 3, 6],
      ['js', 2, 3, 6],
    ],
  );
  t.same(
    lines.map((l) => l.loader),
    ['none', 'none', 'none'],
    'no TypeScript loader in the ranks',
  );
});

t.test('runRanks from tsrun/testing under tap', async (t) => {
  const r = runAsUser(
    'npx',
    ['tap', '--disable-coverage', '--allow-incomplete-coverage', 'ranks.tap.test.mjs'],
    project,
  );
  t.equal(r.code, 0, `${r.out}\n${r.err}`);
  t.match(r.out, /ranks\.tap\.test\.mjs/);
});

t.test('runRanks from tsrun/testing under node --test', async (t) => {
  const r = runAsUser(process.execPath, ['--test', 'ranks.node-test.mjs'], project);
  t.equal(r.code, 0, `${r.out}\n${r.err}`);
  t.match(r.out, /# pass 1/);
});

t.test("the package's types pass the user's strict tsc (skipLibCheck false)", async (t) => {
  const r = runAsUser('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'], project);
  t.equal(r.code, 0, `${r.out}\n${r.err}`);
});

t.test('the embedded pool from plain JavaScript', async (t) => {
  const r = runAsUser(process.execPath, ['pool.mjs'], project);
  t.equal(r.code, 0, r.err);
  t.same(JSON.parse(r.out.trim().split('\n').at(-1) ?? '{}'), { squares: [1, 4, 9, 16], sum: 30 });
});
