/**
 * POSIX shell single-quoting, for a command line another shell runs (the SSH launcher's remote command) or
 * a person pastes (the command of a run-all cell in its log and result).
 */

/** `s` as one shell word: left bare when it holds only characters no shell treats specially. */
export function shQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `cmd args...` as one line of shell words. */
export function shellLine(cmd: string, args: string[]): string {
  return [cmd, ...args].map(shQuote).join(' ');
}
