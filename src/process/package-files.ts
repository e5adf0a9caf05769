/**
 * Where this package's own files are, whether it runs from its TypeScript sources (a clone of the
 * repository, no build step) or from the compiled `dist/` tree of an installed package. Every module that
 * starts a process with one of the package's own entry files goes through here, so neither layout is
 * assumed anywhere else.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** True in a clone of the repository (this module is a `.ts` file run by tsx), false in `dist/`. */
export const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * Node condition under which `import 'tsrun'` resolves to the TypeScript sources (see package.json
 * `exports`). Processes started from a source checkout get it, so self-references inside the repository
 * never need a build.
 */
export const SOURCE_CONDITION = 'tsrun-source';

/** Root folder of the package: the repository, or `node_modules/tsrun` (dist/src/process → ../../..). */
export const PACKAGE_ROOT = fileURLToPath(
  new URL(RUNNING_FROM_SOURCE ? '../../' : '../../../', import.meta.url),
);

/**
 * Absolute path of the runnable file of a package module named relative to the caller as in the
 * sources (`'./worker.ts'`): the `.ts` file itself from source, the compiled `.js` beside the caller
 * otherwise.
 */
export function packageModulePath(callerUrl: string, relativeTsPath: string): string {
  const rel = callerUrl.endsWith('.ts') ? relativeTsPath : relativeTsPath.replace(/\.ts$/, '.js');
  return fileURLToPath(new URL(rel, callerUrl));
}

/** Absolute path of a file at the package root, e.g. `bin/tsrun.js`. */
export function packageRootPath(rel: string): string {
  return join(PACKAGE_ROOT, rel);
}
