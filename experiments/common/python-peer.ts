/**
 * Finds out whether a Python peer (a script of `bench/peers/`) can run here, one peer at a time, so a
 * missing package skips only the peers that need it and the message says how to install it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The Python that has Debian's peer packages (the `python3` first on PATH may be another one). */
export const DEFAULT_PEER_PYTHON = '/usr/bin/python3';

/** Folder of the project's own peer scripts. */
export const PEERS_DIR = fileURLToPath(new URL('../../bench/peers/', import.meta.url));

/** Debian package of each Python module a peer imports. */
const APT_PACKAGE: Record<string, string> = {
  numpy: 'python3-numpy',
  pandas: 'python3-pandas',
  scipy: 'python3-scipy',
  sklearn: 'python3-sklearn',
  networkx: 'python3-networkx',
  'dask.distributed': 'python3-distributed',
  torch: 'python3-torch',
  torchvision: 'python3-torchvision',
  mpi4py: 'python3-mpi4py',
};

/** Importing torch or dask on a loaded 2-core machine can take a minute. */
const PROBE_TIMEOUT_MS = 300_000;

export type PeerCheck = { ok: true } | { ok: false; reason: string };

/**
 * Whether `python` imports every module in `modules` (and every program in `programs` is on PATH).
 * The reason names the first missing piece and its Debian package, e.g.
 * `/usr/bin/python3 has no torch (apt-get install python3-torch)`.
 */
export function checkPythonPeer(
  python: string,
  modules: readonly string[],
  programs: ReadonlyArray<{ name: string; apt: string }> = [],
): PeerCheck {
  if (!existsSync(python)) return { ok: false, reason: `${python} not found (apt-get install python3)` };
  const probe = [
    'import importlib, json',
    'missing = []',
    `for m in ${JSON.stringify(modules)}:`,
    '    try: importlib.import_module(m)',
    '    except Exception: missing.append(m)',
    'print(json.dumps(missing))',
  ].join('\n');
  const run = spawnSync(python, ['-c', probe], { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS });
  if (run.error || run.status !== 0) {
    const why = run.error
      ? `${run.error.message}${run.signal ? ` after ${PROBE_TIMEOUT_MS / 1000} s` : ''}`
      : (run.stderr.trim().split('\n').pop() ?? `exit code ${run.status}`);
    return { ok: false, reason: `${python} could not import ${modules.join(', ')} (${why})` };
  }
  const missing = JSON.parse(run.stdout.trim().split('\n').pop() ?? '[]') as string[];
  if (missing.length > 0) {
    const m = missing[0];
    return {
      ok: false,
      reason: `${python} has no ${m} (apt-get install ${APT_PACKAGE[m] ?? `python3-${m}`})`,
    };
  }
  for (const p of programs) {
    const found = spawnSync('sh', ['-c', `command -v ${p.name}`], { encoding: 'utf8' });
    if (found.status !== 0) return { ok: false, reason: `${p.name} not found (apt-get install ${p.apt})` };
  }
  return { ok: true };
}
