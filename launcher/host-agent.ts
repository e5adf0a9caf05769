/**
 * One host of an SSH launch: the agent process (`ssh host 'cd CWD && exec node tsrun.js --agent ...'`,
 * or the same command without ssh for localhost), its control events, and how to stop it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type AgentEvent, type AgentHello, decodeLine } from '../src/process/agent-protocol.js';
import { shQuote } from '../src/process/shell-quote.js';
import { isLocalHost } from './hostfile.js';

export interface HostAgentSpec {
  host: string;
  /** Arguments after `node tsrun.js`. */
  agentArgs: string[];
  cwd: string;
  nodePath: string;
  tsrunBin: string;
  sshOpts: string[];
  hello: AgentHello;
}

export interface AgentExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The agent's (or ssh's) own stderr lines, i.e. not a rank's; ssh puts its error message here. */
  ownStderr: string[];
}

/** `Key=Value` → `-o Key=Value`; anything starting with '-' is split on blanks and passed as is. */
export function sshOptionArgs(opts: string[]): string[] {
  return opts.flatMap((o) => (o.trim().startsWith('-') ? o.trim().split(/\s+/) : ['-o', o]));
}

export function sshArgv(
  spec: Pick<HostAgentSpec, 'host' | 'agentArgs' | 'cwd' | 'nodePath' | 'tsrunBin' | 'sshOpts'>,
): string[] {
  const remote = ['cd', shQuote(spec.cwd), '&&', 'exec', shQuote(spec.nodePath), shQuote(spec.tsrunBin)]
    .concat(spec.agentArgs.map(shQuote))
    .join(' ');
  // BatchMode first so a user option cannot turn on password prompts; the ConnectTimeout default comes
  // last because ssh keeps the first value it sees for an option.
  return [
    '-o',
    'BatchMode=yes',
    ...sshOptionArgs(spec.sshOpts),
    '-o',
    'ConnectTimeout=10',
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=3',
    spec.host,
    remote,
  ];
}

export class HostAgent {
  readonly proc: ChildProcess;
  readonly exited: Promise<AgentExit>;
  started = false;
  private readonly ownStderr: string[] = [];

  constructor(
    readonly spec: HostAgentSpec,
    onEvent: (e: AgentEvent) => void,
  ) {
    const local = isLocalHost(spec.host);
    const [cmd, args] = local ? [spec.nodePath, [spec.tsrunBin, ...spec.agentArgs]] : ['ssh', sshArgv(spec)];
    this.proc = spawn(cmd, args, {
      cwd: local ? spec.cwd : undefined,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.proc.stdin!.on('error', () => {}); // EPIPE when the agent is already gone
    this.proc.stdin!.write(JSON.stringify(spec.hello) + '\n');
    this.proc.stdout!.on('data', (d: Buffer) => process.stdout.write(d));
    const rl = createInterface({ input: this.proc.stderr! });
    rl.on('line', (line) => {
      const { text, event } = decodeLine(line);
      if (event) {
        if (event.ev === 'started') this.started = true;
        onEvent(event);
      }
      if (event?.ev === 'started') {
        // Lines from before the start (e.g. a login banner) were held back; a failed start reports
        // them in its one error line instead of echoing them.
        for (const l of this.ownStderr) process.stderr.write(l + '\n');
      }
      if (text || !event) {
        if (this.started) process.stderr.write(text + '\n');
        else {
          this.ownStderr.push(text);
          if (this.ownStderr.length > 20) this.ownStderr.shift();
        }
      }
    });
    const rlClosed = new Promise<void>((r) => rl.once('close', r));
    this.exited = new Promise<AgentExit>((resolve) => {
      this.proc.once('error', (err) => {
        if (this.proc.pid === undefined) resolve({ code: 127, signal: null, ownStderr: [err.message] });
      });
      this.proc.once('exit', (code, signal) => {
        // Let the last control lines (rank exits) arrive before reporting the agent's exit.
        const drained = Promise.race([rlClosed, new Promise((r) => setTimeout(r, 1000).unref())]);
        void drained.then(() => resolve({ code, signal, ownStderr: this.ownStderr }));
      });
    });
  }

  /** Ends stdin: the agent stops its ranks (TERM, grace, KILL) and exits; kills ssh if it hangs. */
  stop(killAfterMs: number): void {
    this.proc.stdin!.end();
    const timer = setTimeout(() => {
      if (this.proc.pid !== undefined) {
        try {
          process.kill(-this.proc.pid, 'SIGKILL');
        } catch {}
      }
    }, killAfterMs);
    timer.unref();
    void this.exited.then(() => clearTimeout(timer));
  }
}
