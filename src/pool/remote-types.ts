/** Types of the driver API: remote functions, their options and arguments. */
import type { ProcessGroup } from '../../collectives/process-group.js';
import type { ObjectRef } from './object-ref.js';

// biome-ignore lint/suspicious/noExplicitAny: a remote function may have any signature
export type AnyFn = (...args: any[]) => any;

/** Each argument may be given as a value or as an ObjectRef to one (resolved before the task runs). */
export type RemoteArgs<P extends unknown[]> = { [K in keyof P]: P[K] | ObjectRef<P[K]> };

export interface RemoteOptions {
  /** Re-runs after the worker running the task died (default 3); then WorkerLostError. */
  maxRetries?: number;
  /** Also re-run when the task throws (default false; then RemoteError at once). */
  retryExceptions?: boolean;
  /** CPU cores the task needs: it runs only on a worker offering at least that many (default 1). */
  cpus?: number;
  /** The ref rejects with TaskTimeoutError when the task has not finished this long after submission. */
  timeoutMs?: number;
}

export interface RemoteFunction<F extends AnyFn> {
  (...args: RemoteArgs<Parameters<F>>): ObjectRef<Awaited<ReturnType<F>>>;
  readonly moduleUrl: string;
  readonly exportName: string;
  readonly options: Readonly<Required<Omit<RemoteOptions, 'timeoutMs'>> & { timeoutMs?: number }>;
}

export interface SpmdOptions {
  /** Number of ranks (each on its own worker). */
  ranks: number;
  /** Called on the driver with every value a rank passes to ctx.emit(value). */
  onEvent?: (value: unknown, rank: number) => void;
}

export interface MapOptions {
  /** Most tasks submitted and not yet finished at any time (default 100). */
  maxInFlight?: number;
}

/** What an SPMD function receives first: its process group and a channel to the driver. */
export interface SpmdContext {
  pg: ProcessGroup;
  rank: number;
  size: number;
  /** Sends a value to the driver's onEvent callback (e.g. per-epoch metrics). */
  emit(value: unknown): void;
}
