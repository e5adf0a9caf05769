// The layer order of docs/ARCHITECTURE.md, checked on every import of the package's own sources: a module
// may import its own layer or a lower one. An exception would have to be listed by name in KNOWN_UPWARD
// (with the reason it exists); there is none.
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
      'src/telemetry/',
      'src/engines/',
      'src/env',
      'src/errors.ts',
      'src/atomic-write.ts',
      'src/data/',
      'src/ml/',
      'src/wasm-bytes.ts',
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

/** Upward imports tolerated for now (importer -> imported), each with its reason. None today. */
const KNOWN_UPWARD = new Set<string>([]);

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
