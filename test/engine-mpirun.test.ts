/**
 * tsrun programs under the real Open MPI `mpirun` (Debian's openmpi-bin): the same SPMD script as plain
 * JavaScript under `node` and as TypeScript under `node --import tsx`, with no MASTER_* variables and no
 * secret, and two mpirun jobs at once, which must not cross.
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { DERIVED_PORT_BASE, DERIVED_PORT_SPAN } from '../src/engines/job-identity.js';
import {
  asUser,
  type CompiledProject,
  compiledProject,
  withoutTapLoaders,
} from './helpers/compiled-package.js';

const REPO = join(import.meta.dirname, '..');
const FIXTURES = join(REPO, 'test/fixtures/engines');
const MPIRUN = ['--allow-run-as-root', '--oversubscribe', '-np', '3'];
// In the repository `import 'tsrun'` resolves to the TypeScript sources under the tsrun-source condition.
const TS_CMD = [
  process.execPath,
  '--conditions=tsrun-source',
  '--import',
  'tsx',
  join(FIXTURES, 'spmd-sum.ts'),
];

function mpirunUnavailable(): string | undefined {
  try {
    const v = execFileSync('mpirun', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (!/Open MPI|OpenRTE/i.test(v)) return `mpirun is not Open MPI: ${v.split('\n')[0]}`;
    return undefined;
  } catch {
    return 'mpirun is missing (apt-get install openmpi-bin)';
  }
}

interface RankLine {
  tag: string;
  rank: number;
  size: number;
  sum: number;
  source: string;
  masterPort: number;
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...withoutTapLoaders(), ...extra };
  for (const k of Object.keys(env)) {
    if (
      /^(MASTER_|TSRUN_JOB_SECRET|TSRUN_RDZV_ID|RANK$|WORLD_SIZE$|LOCAL_|GROUP_RANK|OMPI_|PMIX_|SLURM_)/.test(
        k,
      )
    )
      delete env[k];
  }
  return env;
}

function mpirun(
  cmd: string[],
  extra: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string; lines: RankLine[] }> {
  return new Promise((resolve) => {
    const p = spawn(...asUser('mpirun', [...MPIRUN, ...cmd]), { cwd: REPO, env: cleanEnv(extra) });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 240_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as RankLine)
        .sort((a, b) => a.rank - b.rank);
      resolve({ code, stdout, stderr, lines });
    });
  });
}

function expectJob(
  t: Test,
  r: Awaited<ReturnType<typeof mpirun>>,
  tag: string,
  scale: number,
  what: string,
): number {
  t.equal(r.code, 0, `${what} exits 0`);
  if (r.code !== 0) t.comment(`${what}: stderr:\n${r.stderr}`);
  const lines = r.lines.filter((l) => l.tag === tag);
  t.same(
    lines.map((l) => [l.rank, l.size, l.sum, l.source]),
    [0, 1, 2].map((rank) => [rank, 3, 6 * scale, 'openmpi']),
    `${what}: three ranks, each with its own job's sum`,
  );
  const ports = new Set(lines.map((l) => l.masterPort));
  t.equal(ports.size, 1, `${what}: one rendezvous port`);
  const [port] = ports;
  t.ok(
    port >= DERIVED_PORT_BASE && port < DERIVED_PORT_BASE + DERIVED_PORT_SPAN,
    `${what}: port ${port} derived`,
  );
  return port;
}

const why = mpirunUnavailable();
if (why) {
  t.plan(0, `skipped: ${why}`);
} else {
  // A loaded machine (other test files at once) can make 6 Node processes start slowly.
  t.setTimeout(540_000);
  let project: CompiledProject;
  t.before(async () => {
    project = await compiledProject([join(FIXTURES, 'spmd-sum.mjs')]);
  });
  t.teardown(() => project?.remove());
  const mjsCmd = () => [process.execPath, project.script('spmd-sum.mjs')];

  t.test('mpirun -np 3 node script.mjs (plain JavaScript, no TypeScript loader)', async (t) => {
    const r = await mpirun(mjsCmd(), {
      ENGINE_TAG: 'mjs',
      ENGINE_SCALE: '1',
    });
    expectJob(t, r, 'mjs', 1, 'mpirun .mjs');
  });

  t.test('mpirun -np 3 node --import tsx script.ts', async (t) => {
    const r = await mpirun(TS_CMD, {
      ENGINE_TAG: 'ts',
      ENGINE_SCALE: '2',
    });
    expectJob(t, r, 'ts', 2, 'mpirun .ts');
  });

  t.test(
    'two mpirun jobs at once, no MASTER_* and no secret: each finishes with its own result',
    async (t) => {
      const [a, b] = await Promise.all([
        mpirun(mjsCmd(), { ENGINE_TAG: 'a', ENGINE_SCALE: '100' }),
        mpirun(mjsCmd(), { ENGINE_TAG: 'b', ENGINE_SCALE: '1000' }),
      ]);
      const pa = expectJob(t, a, 'a', 100, 'job a');
      const pb = expectJob(t, b, 'b', 1000, 'job b');
      t.not(pa, pb, 'each job derived its own port from its mpirun job id');
    },
  );
}
