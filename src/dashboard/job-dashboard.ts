/**
 * The launcher's side of `tsrun --dashboard-port P`: starts the server over a JobMonitor, prints the URL,
 * and says what every rank needs so that it reports (the preload, the IPC channel, one variable).
 */
import { fileURLToPath } from 'node:url';
import { isLoopback } from './access-token.js';
import { JobMonitor } from './job-monitor.js';
import { type Dashboard, startDashboard } from './server.js';

export const REPORTER_PATH = fileURLToPath(new URL('./rank-reporter.ts', import.meta.url));

export interface JobDashboard {
  monitor: JobMonitor;
  server: Dashboard;
  /** Merged into every rank's environment. */
  rankEnv: Record<string, string>;
  /** Modules every rank preloads (after tsx). */
  preload: string[];
}

export async function openJobDashboard(o: {
  port: number;
  host?: string;
  secret: string;
  pool: boolean;
  log?: (line: string) => void;
}): Promise<JobDashboard> {
  const monitor = new JobMonitor(o.pool);
  const server = await startDashboard(monitor, {
    port: o.port,
    host: o.host,
    secret: o.secret,
    title: o.pool ? '--pool job' : 'SPMD job',
  });
  monitor.start();
  const log = o.log ?? ((line: string) => process.stderr.write(line));
  // One write, so the URL and the warning arrive together.
  const warning = isLoopback(o.host ?? '127.0.0.1')
    ? ''
    : 'tsrun: the dashboard listens off loopback, so it asks for the token in that URL (derived from the ' +
      'job secret; the browser keeps it in a cookie). Share the URL only with people who may see the job.\n';
  log(`tsrun: dashboard at ${server.url}\n${warning}`);
  return { monitor, server, rankEnv: { TSRUN_DASHBOARD_REPORT: '1' }, preload: [REPORTER_PATH] };
}
