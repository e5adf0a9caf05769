// The layout of docs/ARCHITECTURE.md "Experiments": in kmeans/ and pagerank/ a file's folder says what it
// is, and imports only go down kernels → setup → drivers → options.ts → the entries (spmd.ts, pool.ts).
// Kernels import only kernels (no input, no collectives, no pool); experiments/common imports no
// experiment; no module imports an entry (they are programs that run-all, the benches and the tests start).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import t from 'tap';
import { repoRoot } from './helpers/ssh-tsrun.js';

const GROUPED = ['experiments/kmeans', 'experiments/pagerank'];
const ENTRIES = new Set(['spmd.ts', 'pool.ts']);

/** The step of a file of a grouped experiment (higher may import lower), or undefined if misplaced. */
function stepOf(file: string): number | undefined {
  const exp = GROUPED.find((d) => file.startsWith(`${d}/`));
  if (exp === undefined) return undefined;
  const rest = file.slice(exp.length + 1);
  const folder = rest.includes('/') ? rest.slice(0, rest.indexOf('/')) : '';
  if (folder === 'kernels') return 0;
  if (folder === 'setup') return 1;
  if (folder === 'drivers') return 2;
  if (rest === 'options.ts') return 3;
  if (ENTRIES.has(rest)) return 4;
  return undefined;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(repoRoot, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(join(repoRoot, rel)).isDirectory()) out.push(...sources(rel));
    else if (/\.(ts|mjs|js)$/.test(name)) out.push(rel);
  }
  return out;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  const found: string[] = [];
  for (const m of readFileSync(join(repoRoot, file), 'utf8').matchAll(IMPORT)) {
    const spec = (m[1] ?? m[2]).replace(/\.js$/, '.ts');
    found.push(relative(repoRoot, resolve(repoRoot, dirname(file), spec)));
  }
  return found;
}

/** Why `from` may not import `to`, or undefined when it may. */
function violation(from: string, to: string): string | undefined {
  const f = stepOf(from);
  const g = stepOf(to);
  const sameExperiment =
    GROUPED.find((d) => from.startsWith(`${d}/`)) === GROUPED.find((d) => to.startsWith(`${d}/`));
  if (g === 4 && from !== to) return 'imports an entry';
  if (from.startsWith('experiments/common/') && GROUPED.some((d) => to.startsWith(`${d}/`)))
    return 'common imports an experiment';
  if (f === 0 && !(g === 0 && sameExperiment)) return 'a kernel imports a non-kernel';
  if (f !== undefined && g !== undefined && sameExperiment && g > f) return 'imports upward';
  return undefined;
}

t.test(
  'every file of a grouped experiment sits in kernels/, setup/, drivers/ or is options.ts or an entry',
  async (t) => {
    const files = GROUPED.flatMap(sources);
    t.ok(files.length > 20, `${files.length} files`);
    t.same(
      files.filter((f) => stepOf(f) === undefined),
      [],
      'a new file goes in the folder that says what it is (docs/ARCHITECTURE.md "Experiments")',
    );
  },
);

t.test('imports go down kernels → setup → drivers → options.ts → entries', async (t) => {
  const bad: string[] = [];
  let seen = 0;
  for (const file of ['experiments', 'bench', 'test'].flatMap(sources)) {
    for (const to of importsOf(file)) {
      if (stepOf(to) !== undefined) seen++;
      const why = violation(file, to);
      if (why !== undefined) bad.push(`${file} -> ${to}: ${why}`);
    }
  }
  t.ok(seen > 100, `${seen} imports of grouped files checked`);
  t.same(bad, []);
});

t.test('the check sees each kind of wrong import', async (t) => {
  const k = 'experiments/pagerank/kernels/csr.ts';
  t.equal(violation(k, 'experiments/pagerank/setup/edges.ts'), 'a kernel imports a non-kernel');
  t.equal(violation(k, 'src/atomic-write.ts'), 'a kernel imports a non-kernel');
  t.equal(violation(k, 'experiments/pagerank/kernels/top-k.ts'), undefined);
  t.equal(
    violation('experiments/kmeans/setup/blocks.ts', 'experiments/kmeans/drivers/global-pool.ts'),
    'imports upward',
  );
  t.equal(
    violation('experiments/kmeans/drivers/global-pool.ts', 'experiments/kmeans/setup/blocks.ts'),
    undefined,
  );
  t.equal(violation('bench/kmeans.ts', 'experiments/kmeans/spmd.ts'), 'imports an entry');
  t.equal(
    violation('experiments/common/result.ts', 'experiments/kmeans/options.ts'),
    'common imports an experiment',
  );
  t.equal(stepOf('experiments/pagerank/row-step.ts'), undefined, 'a flat file is misplaced');
});
