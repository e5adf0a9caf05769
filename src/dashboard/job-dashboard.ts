/**
 * The launcher's side of `tsrun --dashboard-port P`: starts the server over a dashboard source (this
 * host's JobMonitor, or the hosts of an SSH job), prints the URL, and says what every rank needs so that
 * it reports (the preload, the IPC channel, one variable).
 */

import { packageModulePath } from '../process/package-files.js';
import { isLoopback } from './access-token.js';
import { DASHBOARD_ENV } from './dashboard-config.js';
import { JobMonitor } from './job-monitor.js';
import { type Dashboard, type DashboardSource, startDashboard } from './server.js';

export const REPORTER_PATH = packageModulePath(import.meta.url, './rank-reporter.ts');

/** What a rank needs to report to whoever spawned it (a launcher or an SSH agent). */
export const RANK_REPORTING = {
  /** Merged into every rank's environment. */
  rankEnv: { [DASHBOARD_ENV.report.name]: '1' } as Record<string, string>,
  /** Modules every rank preloads (after tsx). */
  preload: [REPORTER_PATH],
};

export interface JobDashboard {
  monitor: JobMonitor;
  server: Dashboard;
  rankEnv: Record<string, string>;
  preload: string[];
}

export interface ServeOptions {
  port: number;
  host?: string;
  secret: string;
  title: string;
  log?: (line: string) => void;
}

/** Serves `source`, then prints the URL (and, off loopback, that the URL carries a token). */
export async function serveDashboard(source: DashboardSource, o: ServeOptions): Promise<Dashboard> {
  const server = await startDashboard(source, o);
  const log = o.log ?? ((line: string) => process.stderr.write(line));
  // One write, so the URL and the warning arrive together.
  const warning = isLoopback(o.host ?? '127.0.0.1')
    ? ''
    : 'tsrun: the dashboard listens off loopback, so it asks for the token in that URL (derived from the ' +
      'job secret; the browser keeps it in a cookie). Share the URL only with people who may see the job.\n';
  log(`tsrun: dashboard at ${server.url}\n${warning}`);
  return server;
}

export async function openJobDashboard(o: {
  port: number;
  host?: string;
  secret: string;
  pool: boolean;
  log?: (line: string) => void;
}): Promise<JobDashboard> {
  const monitor = new JobMonitor(o.pool);
  const server = await serveDashboard(monitor, { ...o, title: o.pool ? '--pool job' : 'SPMD job' });
  monitor.start();
  return { monitor, server, ...RANK_REPORTING };
}
