// Every TSRUN_* variable the package reads is documented in the README (the environment table or the
// section of its feature), except the ones tsrun sets for its own child processes, listed here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
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
