/**
 * Preloaded (`node --import`) into every rank when the launcher serves a dashboard: once a second it sends
 * this process's collective totals, and the pool head's task totals when this process runs a head, to the
 * launcher over the rank's process channel (the IPC pipe the launcher opened; no socket of its own). The
 * timer is unref'd, so it never keeps a finished rank alive.
 */

import { readCollectiveCounters } from '../telemetry/collective-counters.js';
import type { RankReport } from '../telemetry/state-types.js';
import { taskCounters } from '../telemetry/task-counters.js';
import { readDashboardConfig } from './dashboard-config.js';

const REPORT_EVERY_MS = 1000;

function report(): void {
  if (!process.send || !process.connected) return;
  const msg: RankReport = { tsrunDashboard: 1, collectives: readCollectiveCounters() };
  if (taskCounters.attached) msg.tasks = taskCounters.read();
  // A launcher that is going away closes the pipe; a lost report is fine.
  process.send(msg, undefined, {}, () => {});
}

if (readDashboardConfig().report) {
  taskCounters.enabled = true;
  setInterval(report, REPORT_EVERY_MS).unref();
  process.once('beforeExit', report);
}
