/**
 * How the runner starts TypeScript children: the same node binary with the launcher's own argv (tsx's
 * loader named by its resolved URL, and the source condition for `import 'tsrun'`).
 */
import { tsxCommand } from '../../src/process/local-spawner.js';

export function nodeTs(script: string, args: string[]): { cmd: string; args: string[] } {
  return { cmd: process.execPath, args: tsxCommand(script, args) };
}

/** The launcher is a JS shim that loads tsx itself; a `.ts` launcher (a test double) needs the loader. */
export function nodeLauncher(launcher: string, args: string[]): { cmd: string; args: string[] } {
  return launcher.endsWith('.ts')
    ? nodeTs(launcher, args)
    : { cmd: process.execPath, args: [launcher, ...args] };
}
