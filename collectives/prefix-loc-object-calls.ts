/**
 * The bodies of the prefix reductions, MAXLOC/MINLOC and the object scatter / all-to-all. ProcessGroup's
 * methods of the same names validate nothing more and call these with the group's core, so this part of
 * the MPI set lives apart from the older calls.
 */
import { deserialize, serialize } from 'node:v8';
import { CollectiveOp, DType, dtypeOf, RedOp, redOpFromName } from '../src/wire/index.js';
import type { ReduceOp, TypedArray } from '../src/wire/vocabulary.js';
import type { LocOp, LocResult } from './algorithms/allreduce-loc-recursive-doubling.js';
import * as algo from './algorithms/select.js';
import type { CollectiveOptions, GroupCore } from './group-core.js';

export type { LocOp, LocResult };

const INTEGER_ONLY: ReadonlySet<ReduceOp> = new Set(['band', 'bor', 'bxor']);

function checkPrefixOp(x: TypedArray, op: ReduceOp, what: string): void {
  if (op === 'avg')
    throw new TypeError(`${what}: 'avg' is not a prefix op; ${what} with 'sum' and divide by rank + 1`);
  const d = dtypeOf(x);
  if (INTEGER_ONLY.has(op) && (d === DType.Float32 || d === DType.Float64)) {
    throw new TypeError(`${what}: op '${op}' needs an integer dtype, got ${x.constructor.name}`);
  }
}

export function scanCall<T extends TypedArray>(
  core: GroupCore,
  x: T,
  op: ReduceOp,
  exclusive: boolean,
  opts?: CollectiveOptions,
): Promise<T> {
  const what = exclusive ? 'exscan' : 'scan';
  checkPrefixOp(x, op, what);
  const fp = {
    op: exclusive ? CollectiveOp.Exscan : CollectiveOp.Scan,
    dtype: dtypeOf(x),
    redop: redOpFromName(op),
    count: x.length,
    root: 0,
  };
  return core.run(fp, opts, (comm) => algo.scan(comm, x, op, exclusive));
}

export function allReduceLocCall<T extends TypedArray>(
  core: GroupCore,
  x: T,
  op: LocOp,
  opts?: CollectiveOptions,
): Promise<LocResult<T>> {
  if (op !== 'max' && op !== 'min') {
    throw new TypeError(`allReduceLoc: op must be 'max' or 'min', got '${String(op)}'`);
  }
  const fp = {
    op: CollectiveOp.AllReduceLoc,
    dtype: dtypeOf(x),
    redop: redOpFromName(op),
    count: x.length,
    root: 0,
  };
  return core.run(fp, opts, (comm) => algo.allReduceLoc(comm, x, op));
}

export function scatterObjectCall<V>(
  core: GroupCore,
  values: readonly V[] | undefined,
  root: number,
  opts?: CollectiveOptions,
): Promise<V> {
  const isRoot = core.rank === root;
  if (isRoot && (!Array.isArray(values) || values.length !== core.size)) {
    throw new TypeError(
      `scatterObject: the root must pass one value per rank (${core.size}), got ${Array.isArray(values) ? values.length : 'none'}`,
    );
  }
  const fp = { op: CollectiveOp.ScatterObject, dtype: DType.None, redop: RedOp.None, count: 0, root };
  return core.run(fp, opts, async (comm) => {
    // Non-roots take whatever length arrives: the part is one message, so no length exchange is needed.
    const parts = isRoot ? values!.map((v) => new Uint8Array(serialize(v))) : undefined;
    const mine = await algo.scatterV(comm, parts, undefined, root, Uint8Array);
    return isRoot ? values![root] : (deserialize(mine) as V);
  });
}

export function allToAllObjectCall<V>(
  core: GroupCore,
  values: readonly V[],
  opts?: CollectiveOptions,
): Promise<V[]> {
  if (!Array.isArray(values) || values.length !== core.size) {
    throw new TypeError(
      `allToAllObject: pass one value per rank (${core.size}), got ${Array.isArray(values) ? values.length : 'none'}`,
    );
  }
  const fp = { op: CollectiveOp.AllToAllObject, dtype: DType.None, redop: RedOp.None, count: 0, root: 0 };
  return core.run(fp, opts, async (comm, phase) => {
    const parts = values.map((v, d) => (d === core.rank ? new Uint8Array(0) : new Uint8Array(serialize(v))));
    const sendCounts = parts.map((p) => new Float64Array([p.length]));
    const recvCounts =
      core.size === 1 ? [0] : (await algo.allToAllV(comm, sendCounts, ones(core.size))).map((c) => c[0]);
    const got = await algo.allToAllV(phase(1), parts, recvCounts);
    return got.map((b, s) => (s === core.rank ? values[s] : (deserialize(b) as V)));
  });
}

function ones(n: number): number[] {
  return new Array(n).fill(1);
}
