// The layer order of docs/ARCHITECTURE.md, checked on every import of the package's own sources: a module
// may import its own layer or a lower one. The few upward imports that remain are listed below by name
// (with the reason they still exist); a new one fails this test, and fixing one means deleting its line.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import t from 'tap';
import { repoRoot } from './helpers/ssh-tsrun.js';

/** Layers from the bottom; the first matching prefix names a file's layer. */
const LAYERS: Array<[number, string[]]> = [
  [
    0,
    [
      'src/process/',
      'src/engines/',
      'src/env',
      'src/errors.ts',
      'src/atomic-write.ts',
      'src/data/',
      'src/ml/',
      'src/trace/',
      'src/flight-record.ts',
    ],
  ],
  [1, ['src/wire/']],
  [2, ['src/transport/']],
  [3, ['src/rendezvous/']],
  [4, ['collectives/']],
  [5, ['src/pool/']],
  [6, ['src/dashboard/', 'src/testing/', 'src/index.ts']],
  [7, ['launcher/', 'bin/']],
];

/** Upward imports not yet removed (structure issue): importer -> imported. */
const KNOWN_UPWARD = new Set<string>([
  // Telemetry probes live in the dashboard folder (to become src/telemetry/, below collectives).
  'collectives/group-core.ts -> src/dashboard/collective-counters.ts',
  'src/pool/head.ts -> src/dashboard/task-counters.ts',
  'src/pool/connect.ts -> src/dashboard/cluster-feed.ts',
  'src/pool/node-agent.ts -> src/dashboard/cluster-feed.ts',
  // The cluster daemon serves the dashboard itself (to move up beside the launcher's commands).
  'src/pool/cluster-daemon.ts -> src/dashboard/cluster-monitor.ts',
  'src/pool/cluster-daemon.ts -> src/dashboard/errors.ts',
  'src/pool/cluster-daemon.ts -> src/dashboard/job-dashboard.ts',
  // The SSH agent's line protocol is shared with the dashboard's relay (to move down to src/process/).
  'src/dashboard/agent-relay.ts -> launcher/agent-protocol.ts',
  'src/dashboard/hosts-monitor.ts -> launcher/agent-protocol.ts',
  // The process helpers (spawnLocalRanks, tsxCommand, makeRankEnv) are to move to src/process/.
  'src/pool/cluster-cli.ts -> launcher/local-spawner.ts',
  'src/pool/connect.ts -> launcher/local-spawner.ts',
  'src/pool/node-agent.ts -> launcher/local-spawner.ts',
  'src/pool/worker.ts -> launcher/local-spawner.ts',
  'src/testing/run-ranks.ts -> launcher/local-spawner.ts',
  // The dtype and reduce-op vocabulary is to move down into src/wire/.
  'src/wire/dtype.ts -> collectives/types.ts',
  'src/wire/enums.ts -> collectives/types.ts',
]);

function layerOf(file: string): number | undefined {
  for (const [layer, prefixes] of LAYERS) if (prefixes.some((p) => file.startsWith(p))) return layer;
  return undefined;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(repoRoot, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(join(repoRoot, rel)).isDirectory()) out.push(...sources(rel));
    else if (/\.(ts|mjs|js)$/.test(name) && !name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function upwardImports(): string[] {
  const found: string[] = [];
  for (const file of ['src', 'collectives', 'launcher', 'bin'].flatMap(sources)) {
    const from = layerOf(file);
    if (from === undefined) continue;
    for (const m of readFileSync(join(repoRoot, file), 'utf8').matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2]).replace(/\.js$/, '.ts');
      const target = relative(repoRoot, resolve(repoRoot, dirname(file), spec));
      const to = layerOf(target);
      if (to !== undefined && to > from) found.push(`${file} -> ${target}`);
    }
  }
  return found.sort();
}

t.test('imports only go down the layers of docs/ARCHITECTURE.md', async (t) => {
  const upward = upwardImports();
  t.same(
    upward.filter((u) => !KNOWN_UPWARD.has(u)),
    [],
    'no new upward import (move the shared piece down a layer instead)',
  );
  t.same(
    [...KNOWN_UPWARD].filter((u) => !upward.includes(u)),
    [],
    'every listed exception still exists (delete the line of one that was fixed)',
  );
});

t.test('every source file of the package belongs to a layer', async (t) => {
  const files = ['src', 'collectives', 'launcher', 'bin'].flatMap(sources);
  t.same(
    files.filter((f) => layerOf(f) === undefined),
    [],
    'add a new folder to LAYERS here and to docs/ARCHITECTURE.md',
  );
});

t.test('the layer check sees an upward import', async (t) => {
  t.equal(layerOf('src/wire/header.ts'), 1);
  t.equal(layerOf('collectives/init.ts'), 4);
  t.ok((layerOf('launcher/cli.ts') ?? 0) > (layerOf('src/pool/pool.ts') ?? 99));
});
