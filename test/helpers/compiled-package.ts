/**
 * A project where `import 'tsrun'` is the compiled package, as a user who installed it has it: the
 * package's JavaScript built by tsc (tsconfig.build.json) into a temporary copy, so plain `node` runs a
 * `.mjs` script with no TypeScript loader (and starts fast: nothing to transpile). Built outside the
 * repository's dist/, which the consumer test empties and rebuilds meanwhile.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const REPO = join(import.meta.dirname, '..', '..');

export interface CompiledProject {
  dir: string;
  /** Absolute path of a script copied into the project, by its file name. */
  script(name: string): string;
  remove(): void;
}

/**
 * Environment without tap's process hooks (NODE_OPTIONS, TAP*, _TAPJS*: tap's processinfo would load its
 * loaders into every Node child), for processes that must run as a user runs them.
 */
export function withoutTapLoaders(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!/^(TAP|_TAPJS|NODE_OPTIONS$)/.test(k)) out[k] = v;
  return out;
}

/**
 * tap's processinfo puts its loader back into NODE_OPTIONS of every child it sees spawned, whatever env
 * is passed; `env -u NODE_OPTIONS cmd ...` drops it again just before cmd starts. Returns [file, args].
 */
export function asUser(cmd: string, args: string[]): [string, string[]] {
  return ['env', ['-u', 'NODE_OPTIONS', cmd, ...args]];
}

export async function compiledProject(scripts: string[]): Promise<CompiledProject> {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-compiled-'));
  const pkg = join(dir, 'pkg');
  const project = join(dir, 'project');
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  mkdirSync(pkg);
  const tsc = join(REPO, 'node_modules', '.bin', 'tsc');
  try {
    await new Promise<void>((resolve, reject) =>
      execFile(
        ...asUser(tsc, ['-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')]),
        { env: withoutTapLoaders() },
        (err, out, errOut) =>
          err
            ? reject(new Error(`tsc build of the package failed: ${err.message}\n${out}${errOut}`))
            : resolve(),
      ),
    );
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  copyFileSync(join(REPO, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(pkg, 'node_modules'));
  symlinkSync(pkg, join(project, 'node_modules', 'tsrun'));
  for (const s of scripts) copyFileSync(s, join(project, basename(s)));
  return {
    dir,
    script: (name) => join(project, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
