/**
 * Runs a command as a user's shell would, for the tests that act as a user (a fresh clone, a consumer
 * project): none of this test run's own variables (tap's, tsrun's, npm's), and no NODE_OPTIONS. tap's
 * process-info plugin puts its loader back into NODE_OPTIONS of every child it sees spawned, so the
 * command goes through `env -u NODE_OPTIONS`, which drops it before exec (tsc 7 cannot start under it).
 */
import { spawnSync } from 'node:child_process';

export function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(TAP|_TAPJS|NODE_OPTIONS|TSRUN_|MASTER_|RANK$|WORLD_SIZE|LOCAL_|GROUP_RANK|npm_)/.test(k)) continue;
    env[k] = v;
  }
  return env;
}

export interface UserRun {
  code: number | null;
  out: string;
  err: string;
}

export function runAsUser(cmd: string, args: string[], cwd: string, timeoutMs = 900_000): UserRun {
  const r = spawnSync('env', ['-u', 'NODE_OPTIONS', cmd, ...args], {
    cwd,
    env: userEnv(),
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status, out: r.stdout ?? '', err: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}
