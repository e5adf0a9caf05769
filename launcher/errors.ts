/**
 * Every message `tsrun` prints for a bad invocation lives here, so wording stays consistent and greppable.
 * A UsageError is reported as one line and exit code 2, before anything is started (or after everything
 * started so far has been stopped).
 */
import { TsrunError } from '../src/errors.js';

export class UsageError extends TsrunError {
  override name = 'UsageError';
  readonly exitCode = 2;
}

/** A hostfile line tsrun cannot read; names the file and line as compilers do. */
export class HostfileError extends UsageError {
  override name = 'HostfileError';
  constructor(
    readonly file: string,
    readonly line: number,
    problem: string,
  ) {
    super(`${file}:${line}: ${problem}`);
  }
}

/**
 * ssh's stderr on one line: its "Warning: Permanently added ..." notices say nothing about the failure
 * and would break tsrun's one-line error.
 */
function sshSummary(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^Warning: Permanently added/.test(l))
    .join(' ');
}

/** SSH could not start the ranks of a host: unreachable, refused, authentication failed. */
export class SshLaunchError extends UsageError {
  override name = 'SshLaunchError';
  constructor(
    readonly host: string,
    sshMessage: string,
  ) {
    super(
      `cannot start ranks on host ${host} over SSH: ${sshSummary(sshMessage) || 'ssh exited without a message'}` +
        ' (check that `ssh -o BatchMode=yes ' +
        host +
        ' true` works; pass options with --ssh-opt)',
    );
  }
}

export class PortBusyError extends UsageError {
  override name = 'PortBusyError';
  constructor(addr: string, port: number) {
    super(
      `master port ${port} on ${addr} is busy; pick another --master-port, or use --standalone to pick a free one`,
    );
  }
}

export class NotImplementedError extends UsageError {
  override name = 'NotImplementedError';
  constructor(what: string) {
    super(`${what} is not implemented yet`);
  }
}
