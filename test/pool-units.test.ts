// Pure pieces of the pool: placement (fair share, cpus, locality, stealing), SPMD local ranks, the
// deque, and the pool message codec's handling of malformed frames.
import t from 'tap';
import { Deque } from '../src/pool/deque.js';
import { decodePool, encodePool, PoolOp } from '../src/pool/protocol.js';
import { pickTasks } from '../src/pool/scheduler.js';
import { spmdLocalRanks } from '../src/pool/spmd-gangs.js';
import type { TaskRec, WorkerRec } from '../src/pool/task-types.js';
import { WireError } from '../src/wire/index.js';

function task(id: string, cpus = 1): TaskRec {
  return {
    spec: {
      id,
      mod: 'file:///x.ts',
      fn: 'f',
      args: new Uint8Array(),
      deps: [],
      cpus,
      maxRetries: 3,
      retryExceptions: false,
    },
    attempt: 1,
    waiting: 0,
    finished: false,
  } as unknown as TaskRec;
}

function worker(id: number, credit: number, cpus = 1): WorkerRec {
  return { id, credit, cpus, affinity: new Deque<TaskRec>(), assigned: new Map() } as unknown as WorkerRec;
}

const ids = (ts: TaskRec[]) => ts.map((x) => x.spec.id);

t.test('pickTasks: fair share of the backlog, bounded by credit', async (t) => {
  const q = new Deque<TaskRec>();
  for (let i = 0; i < 10; i++) q.push(task(String(i)));
  const a = worker(1, 32);
  const b = worker(2, 32);
  t.same(ids(pickTasks(a, q, [a, b], 2)), ['0', '1', '2', '3', '4'], 'half of 10 for one of two workers');
  t.same(ids(pickTasks(b, q, [a, b], 1)), ['5', '6', '7', '8', '9'], 'the rest for the last');
  for (let i = 0; i < 10; i++) q.push(task(`c${i}`));
  const small = worker(3, 2);
  t.equal(pickTasks(small, q, [small], 1).length, 2, 'never more than the credit');
});

t.test('pickTasks: cpus, locality first, stealing from busy workers, finished tasks dropped', async (t) => {
  const q = new Deque<TaskRec>();
  q.push(task('big', 4));
  q.push(task('s1'));
  const w1 = worker(1, 8, 1);
  t.same(ids(pickTasks(w1, q, [w1], 1)), ['s1'], 'a 4-cpu task is left for a larger worker');
  t.equal(q.length, 1);
  const w4 = worker(2, 8, 4);
  t.same(ids(pickTasks(w4, q, [w1, w4], 1)), ['big'], 'and the larger worker takes it');

  const holder = worker(1, 0);
  const idle = worker(2, 8);
  const fresh = task('fresh');
  fresh.queuedAt = Date.now();
  const stale = task('near');
  stale.queuedAt = Date.now() - 1000;
  holder.affinity.push(stale);
  holder.affinity.push(fresh);
  q.push(task('shared'));
  t.same(
    ids(pickTasks(idle, q, [holder, idle], 1)),
    ['shared', 'near'],
    'shared queue first, then steal from a full worker what waited long, not what just arrived',
  );

  const mine = worker(3, 8);
  mine.affinity.push(task('mine'));
  q.push(task('other'));
  const done = task('done');
  done.finished = true;
  q.unshift(done);
  t.same(
    ids(pickTasks(mine, q, [mine], 1)),
    ['mine', 'other'],
    'own affinity queue first; finished tasks skipped',
  );
});

t.test('spmdLocalRanks numbers ranks per host', async (t) => {
  t.same(spmdLocalRanks(['a', 'b', 'a', 'a']), [
    { localRank: 0, localSize: 3 },
    { localRank: 0, localSize: 1 },
    { localRank: 1, localSize: 3 },
    { localRank: 2, localSize: 3 },
  ]);
});

t.test('Deque: FIFO with unshift, compaction, removeWhere', async (t) => {
  const d = new Deque<number>();
  for (let i = 0; i < 5000; i++) d.push(i);
  let inOrder = true;
  for (let i = 0; i < 4000; i++) if (d.shift() !== i) inOrder = false;
  t.ok(inOrder, 'FIFO order across compactions');
  d.unshift(-1);
  t.equal(d.length, 1001);
  t.equal(d.shift(), -1);
  d.removeWhere((v) => v % 2 === 0);
  t.equal(d.length, 500);
  t.equal(d.shift(), 4001);
  const e = new Deque<number>();
  t.equal(e.shift(), undefined);
});

t.test('pool messages: round trip with blobs; malformed frames are rejected, not crashed on', async (t) => {
  const frames = encodePool(PoolOp.Submit, [{ id: 'a' }], [new Uint8Array([1, 2, 3])], 7);
  const m = decodePool(frames);
  t.equal(m.op, PoolOp.Submit);
  t.equal(m.seq, 7);
  t.same(m.body, [{ id: 'a' }]);
  t.same([...m.blobs[0]], [1, 2, 3]);
  const rejects = (frames: Uint8Array[]) => {
    try {
      decodePool(frames);
      return false;
    } catch (e) {
      return e instanceof WireError;
    }
  };
  t.ok(rejects([frames[0]]), 'missing payload frames: WireError');
  t.ok(rejects([new Uint8Array(10)]), 'short header: WireError');
  const bad = Buffer.from(frames[0]);
  bad[0] = 0;
  t.ok(rejects([bad, ...frames.slice(1)]), 'bad magic: WireError');
});
