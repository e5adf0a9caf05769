/**
 * What the dashboard's rank side takes from the environment. The launcher sets it in every rank's
 * environment next to the rank-reporter preload (RANK_REPORTING in job-dashboard.ts); the reporter reads
 * it when it starts.
 */
import { type ConfigOf, type Env, onField, readEnvSpec } from '../env-fields.js';

export const DASHBOARD_ENV = {
  /** Internal, set by tsrun: `1` = report this rank's collective and task totals to the launcher. */
  report: onField('TSRUN_DASHBOARD_REPORT'),
};

export type DashboardConfig = ConfigOf<typeof DASHBOARD_ENV>;

export function readDashboardConfig(env: Env = process.env): DashboardConfig {
  return readEnvSpec(DASHBOARD_ENV, env);
}
