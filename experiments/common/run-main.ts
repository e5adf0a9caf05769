/**
 * Entry wrapper for experiment scripts: a UsageError exits 2 with its message, any other error exits 1
 * with the error's message (stack only with TSRUN_DEBUG=1), so the launcher's root-cause block shows
 * the actionable line rather than a stack trace.
 */
import { UsageError } from './flags.js';

export function runMain(main: () => Promise<void>): void {
  main().then(
    () => {
      // Open sockets of a process group or pool must not keep a finished experiment alive.
      process.exitCode ??= 0;
    },
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      process.stderr.write(`${e.name}: ${e.message}\n`);
      if (process.env.TSRUN_DEBUG === '1' && e.stack) process.stderr.write(`${e.stack}\n`);
      process.exit(e instanceof UsageError ? 2 : 1);
    },
  );
}
