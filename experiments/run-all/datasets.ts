import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DatagenError } from './errors.js';
import { nodeTs } from './node-command.js';
import type { RunOptions } from './options.js';
import { runChild } from './run-child.js';
import type { DatasetSize } from './sizes.js';

/** Generators get longer than a cell: a 1 GB graph takes minutes to write. */
const DATAGEN_TIMEOUT_MS = 60 * 60 * 1000;

export interface Dataset {
  path: string;
  bytes: number;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Bytes of a file, or of every file under a directory. */
export async function diskBytes(path: string): Promise<number> {
  const s = await stat(path);
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const e of await readdir(path, { withFileTypes: true })) total += await diskBytes(join(path, e.name));
  return total;
}

async function generate(
  opts: RunOptions,
  target: string,
  script: string,
  args: string[],
  partial: string,
  final: string,
): Promise<void> {
  await mkdir(opts.dataDir, { recursive: true });
  await rm(partial, { recursive: true, force: true });
  process.stderr.write(`[run-all] generating ${target} -> ${final}\n`);
  const { cmd, args: argv } = nodeTs(join(opts.experimentsDir, 'datagen', script), [
    ...args,
    '--out',
    partial,
  ]);
  const logFile = join(opts.resultsDir, 'logs', `datagen-${target}.log`);
  const run = await runChild(cmd, argv, {
    cwd: process.cwd(),
    env: process.env,
    timeoutMs: DATAGEN_TIMEOUT_MS,
    logFile,
  });
  if (run.code !== 0 || !(await exists(partial))) {
    await rm(partial, { recursive: true, force: true });
    const why = run.code === 0 ? `it wrote nothing to ${partial}` : `exit code ${run.code ?? run.signal}`;
    throw new DatagenError(target, `${why} (log: ${logFile})`, run.stderrTail);
  }
  // Renamed only when complete, so an interrupted generation is redone rather than used half-written.
  await rename(partial, final);
}

/** `<data>/graph-<size>.csv`, generated when missing (a real Friendster subset may be put there instead). */
export async function ensureGraph(opts: RunOptions, size: DatasetSize): Promise<Dataset> {
  const path = join(opts.dataDir, `graph-${size.name}.csv`);
  if (!(await exists(path))) {
    const partial = join(opts.dataDir, `.graph-${size.name}.partial.csv`);
    await generate(opts, `graph-${size.name}`, 'graph.ts', ['--edges', String(size.edges)], partial, path);
  }
  return { path, bytes: await diskBytes(path) };
}

/** The X-ray folder: `--xray DIR` as given, else `<data>/xray-<generator flags>`, generated when missing. */
export async function ensureXray(opts: RunOptions): Promise<Dataset> {
  if (opts.xray !== undefined) {
    if (!(await exists(join(opts.xray, 'train')))) {
      throw new DatagenError(
        'xray',
        `--xray ${opts.xray} has no train/ folder (expected {train,test,val}/{NORMAL,PNEUMONIA})`,
      );
    }
    return { path: opts.xray, bytes: await diskBytes(opts.xray) };
  }
  // Named after the generator's flags, so the quick set and the npm start set live side by side.
  const name = ['xray', ...opts.xrayGenArgs.map((a) => a.replace(/[^\w.]+/g, ''))].filter(Boolean).join('-');
  const path = join(opts.dataDir, name);
  if (!(await exists(path))) {
    await generate(opts, name, 'xray.ts', opts.xrayGenArgs, join(opts.dataDir, `.${name}.partial`), path);
  }
  return { path, bytes: await diskBytes(path) };
}
