import { cpus, totalmem } from 'node:os';

/** One line naming the machine a run was measured on, for the report's header. */
export function machineDescription(): string {
  const cs = cpus();
  return `${cs.length} × ${cs[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}`;
}
