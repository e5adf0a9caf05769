/**
 * What each rank of `runRanks` runs: imports the user's module, calls the export with the arguments,
 * destroys any process group the function left open (so its last messages are delivered), and reports
 * the return value or the error to the harness over the IPC channel.
 */
import { deserialize, serialize } from 'node:v8';
import { destroyAll } from '../../collectives/init.js';

interface Job {
  moduleUrl: string;
  exportName: string;
  args: string;
}

function report(msg: object): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      resolve();
      return;
    }
    process.send(msg, () => resolve());
  });
}

async function main(): Promise<void> {
  const job = JSON.parse(process.env.TSRUN_TESTING_JOB ?? '{}') as Job;
  const args = deserialize(Buffer.from(job.args, 'base64')) as unknown[];
  let exitCode = 0;
  try {
    const mod = (await import(job.moduleUrl)) as Record<string, unknown>;
    const fn = mod[job.exportName];
    if (typeof fn !== 'function') {
      throw new TypeError(`${job.moduleUrl} has no exported function '${job.exportName}'`);
    }
    const value = await (fn as (...a: unknown[]) => unknown)(...args);
    await destroyAll();
    await report({ ok: true, value: serialize(value).toString('base64') });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    await report({ ok: false, error: { name: err.name, message: err.message, stack: err.stack } });
    exitCode = 1;
  }
  process.exit(exitCode);
}

void main();
