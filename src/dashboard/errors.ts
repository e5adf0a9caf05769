/** The dashboard's user-facing errors. */
import { TsrunError } from '../errors.js';

export class DashboardPortError extends TsrunError {
  readonly exitCode = 2;
  constructor(host: string, port: number, cause: NodeJS.ErrnoException) {
    const why =
      cause.code === 'EADDRINUSE'
        ? 'something else already listens there; pick another --dashboard-port (0 = any free port)'
        : cause.code === 'EADDRNOTAVAIL'
          ? `${host} is not an address of this host; check --dashboard-host`
          : cause.message;
    super(`cannot serve the dashboard on ${host}:${port}: ${why}`);
    this.name = 'DashboardPortError';
  }
}
