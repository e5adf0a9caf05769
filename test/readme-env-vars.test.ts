// Every TSRUN_* variable the package reads is documented in the README (the environment table or the
// section of its feature), except the ones tsrun sets for its own child processes, listed here. The
// README's environment table and the configuration modules (each area's `*-config.ts`, and the flags'
// environment twins in launcher/cli-flags.ts) name the same variables.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { COLLECTIVES_ENV } from '../collectives/collectives-config.js';
import { FLAGS, type Flag } from '../launcher/cli-flags.js';
import { CLUSTER_DAEMON_ENV, LAUNCHER_ENV } from '../launcher/launcher-config.js';
import { DASHBOARD_ENV } from '../src/dashboard/dashboard-config.js';
import { envNames } from '../src/env-fields.js';
import { TRANSPORT_ENV } from '../src/transport/transport-config.js';
import { repoRoot } from './helpers/ssh-tsrun.js';

/** Set by tsrun for processes it starts itself; not for users to set. */
const INTERNAL = new Set([
  'TSRUN_CLUSTER_ADDRESS',
  'TSRUN_CLUSTER_ADVERTISE',
  'TSRUN_CLUSTER_BIND',
  'TSRUN_CLUSTER_DASHBOARD_HOST',
  'TSRUN_CLUSTER_DASHBOARD_PORT',
  'TSRUN_CLUSTER_PORT',
  'TSRUN_CLUSTER_ROLE',
  'TSRUN_CLUSTER_WORKERS',
  'TSRUN_DASHBOARD_REPORT',
  'TSRUN_POOL_HEAD',
  'TSRUN_POOL_NODE_PID',
  'TSRUN_TESTING_JOB',
]);

/**
 * In the README's table but declared by no configuration module yet, each with where it is read. An entry
 * that a module comes to declare must leave this list (the last test says so).
 */
const NOT_IN_A_CONFIG_MODULE = new Map([
  [
    'TSRUN_JOB_ID',
    'set by the head for a `tsrun job` driver (src/pool/jobs/job-manager.ts), read by user code',
  ],
  ['TSRUN_PARENT_POLL_MS', 'src/process/parent-watch.mjs, a plain-JavaScript preload'],
  ['TSRUN_TRACE', 'src/trace/recorder.ts'],
  ['TSRUN_TRACE_DIR', 'src/trace/recorder.ts'],
]);

function sources(dir: string): string[] {
  return readdirSync(join(repoRoot, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(join(repoRoot, rel)).isDirectory()) return sources(rel);
    return /\.(ts|mjs)$/.test(name) ? [rel] : [];
  });
}

t.test('every TSRUN_* variable of the package is in the README', async (t) => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const read = new Set<string>();
  for (const f of ['src', 'collectives', 'launcher'].flatMap(sources)) {
    // A variable name, not the tail of an error code such as ERR_TSRUN_PEER_LOST.
    for (const m of readFileSync(join(repoRoot, f), 'utf8').matchAll(/(?<![A-Z_])TSRUN_[A-Z0-9_]+/g)) {
      read.add(m[0]);
    }
  }
  t.ok(read.size > 20, `${read.size} variables found`);
  const undocumented = [...read].filter((v) => !INTERNAL.has(v) && !readme.includes(v)).sort();
  t.same(undocumented, [], 'document each in the README where its feature is described');
});

const VAR = /(?<![A-Z_])TSRUN_[A-Z0-9_]+/g;

/** Variables the configuration modules declare: the specs of this repository's modules, the flags' twins,
 * and any variable named in another area's `*-config.ts` (whatever its own form). */
function declared(): Set<string> {
  const names = new Set(
    [LAUNCHER_ENV, CLUSTER_DAEMON_ENV, COLLECTIVES_ENV, TRANSPORT_ENV, DASHBOARD_ENV].flatMap(envNames),
  );
  for (const f of Object.values(FLAGS as Record<string, Flag<unknown>>)) if (f.env) names.add(f.env);
  for (const file of ['src', 'collectives', 'launcher'].flatMap(sources)) {
    if (!file.endsWith('-config.ts')) continue;
    for (const m of readFileSync(join(repoRoot, file), 'utf8').matchAll(VAR)) names.add(m[0]);
  }
  return names;
}

/** The TSRUN_* variables of the README's "Environment variables" table. */
function readmeTable(): Set<string> {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Environment variables\n');
  const end = readme.indexOf('\n## ', start + 1);
  const rows = readme
    .slice(start, end)
    .split('\n')
    .filter((l) => l.startsWith('| `'));
  return new Set(rows.flatMap((row) => [...row.split('|')[1].matchAll(VAR)].map((m) => m[0])));
}

t.test('every variable a configuration module declares is in the README table', async (t) => {
  const table = readmeTable();
  t.ok(table.size > 20, `${table.size} variables in the table`);
  const missing = [...declared()].filter((v) => !INTERNAL.has(v) && !table.has(v)).sort();
  t.same(missing, [], "add a row for each to the README's environment table");
});

t.test('every variable of the README table is declared by a configuration module', async (t) => {
  const names = declared();
  const undeclared = [...readmeTable()].filter((v) => !names.has(v) && !NOT_IN_A_CONFIG_MODULE.has(v));
  t.same(undeclared.sort(), [], "declare each in its area's *-config.ts (or drop its row)");
  const nowDeclared = [...NOT_IN_A_CONFIG_MODULE.keys()].filter((v) => names.has(v));
  t.same(nowDeclared, [], 'declared now: remove from NOT_IN_A_CONFIG_MODULE');
  const notInTable = [...NOT_IN_A_CONFIG_MODULE.keys()].filter((v) => !readmeTable().has(v));
  t.same(notInTable, [], 'NOT_IN_A_CONFIG_MODULE lists only rows of the table');
});

t.test('internal variables have no row in the README table', async (t) => {
  const table = readmeTable();
  t.same(
    [...INTERNAL].filter((v) => table.has(v)),
    [],
    'an internal variable has no row in the README table',
  );
});
