import { CollectiveOp, DType, dtypeName, RedOp, redOpName } from '../src/wire/index.js';

/** What every message of a collective call carries so ranks can tell they are in the same call. */
export interface Fingerprint {
  op: number;
  dtype: number;
  redop: number;
  count: number;
  root: number;
}

const OP_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(CollectiveOp).map(([k, v]) => [v, k[0].toLowerCase() + k.slice(1)]),
);

/** Ops whose element count must agree across ranks (the others take per-rank lengths). */
const COUNT_MUST_MATCH = new Set<number>([
  CollectiveOp.AllReduce,
  CollectiveOp.Broadcast,
  CollectiveOp.Reduce,
  CollectiveOp.ReduceScatter,
  CollectiveOp.Scan,
  CollectiveOp.Exscan,
  CollectiveOp.AllReduceLoc,
]);
const ROOTED = new Set<number>([
  CollectiveOp.Broadcast,
  CollectiveOp.Gather,
  CollectiveOp.Scatter,
  CollectiveOp.Reduce,
  CollectiveOp.BroadcastObject,
  CollectiveOp.GatherObject,
  CollectiveOp.ScatterObject,
]);

/** The collective's method name, e.g. `allReduce`. */
export function opName(op: number): string {
  return OP_NAMES[op] ?? `op#${op}`;
}

export function describeCall(fp: Fingerprint, seq: number): string {
  const parts: string[] = [];
  if (fp.dtype !== DType.None) parts.push(dtypeName(fp.dtype));
  if (COUNT_MUST_MATCH.has(fp.op) || fp.count > 0) parts.push(`length ${fp.count}`);
  if (fp.redop !== RedOp.None) parts.push(`op '${redOpName(fp.redop as RedOp)}'`);
  if (ROOTED.has(fp.op)) parts.push(`root ${fp.root}`);
  return `${OP_NAMES[fp.op] ?? `op#${fp.op}`}(${parts.join(', ')}) as call #${seq}`;
}

/** Returns why two ranks' fingerprints of the same call are incompatible, or undefined when they agree. */
export function mismatch(a: Fingerprint, b: Fingerprint): string | undefined {
  if (a.op !== b.op) return 'different collectives';
  if (a.dtype !== b.dtype) return 'different dtypes';
  if (a.redop !== b.redop) return 'different reduction ops';
  if (ROOTED.has(a.op) && a.root !== b.root) return 'different roots';
  if (COUNT_MUST_MATCH.has(a.op) && a.count !== b.count) return 'different lengths';
  return undefined;
}
