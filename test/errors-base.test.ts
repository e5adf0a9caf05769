// One base class for every error a user can receive: each exported error class of the package's entry
// points is a TsrunError with a stable `code`, so `catch (e) { if (e instanceof TsrunError) ... }` and
// `switch (e.code)` work across the launcher, collectives, pool and testing APIs.
import t from 'tap';
import * as root from 'tsrun';
import * as collectives from 'tsrun/collectives';
import * as pool from 'tsrun/pool';
import * as testing from 'tsrun/testing';
import { UsageError } from '../launcher/errors.js';
import { errorCode, PeerLostError, TsrunError } from '../src/errors.js';
import { OversizeFrameError, WireError } from '../src/wire/errors.js';

type Constructor = { prototype: unknown };

function errorClasses(mod: Record<string, unknown>): Array<[string, Constructor]> {
  return Object.entries(mod).filter(
    (e): e is [string, Constructor] =>
      typeof e[1] === 'function' && (e[1] as Constructor).prototype instanceof Error,
  );
}

t.test('every exported error class is a TsrunError', async (t) => {
  const classes = [root, collectives, pool, testing].flatMap((m) =>
    errorClasses(m as Record<string, unknown>),
  );
  t.ok(classes.length >= 20, `${classes.length} error classes exported`);
  for (const [name, cls] of classes) {
    t.ok(cls === TsrunError || cls.prototype instanceof TsrunError, `${name} extends TsrunError`);
  }
});

t.test('codes are stable and derived from the class, unless a family sets its own', async (t) => {
  t.equal(errorCode('PeerLostError'), 'ERR_TSRUN_PEER_LOST');
  t.equal(errorCode('CollectiveTimeoutError'), 'ERR_TSRUN_COLLECTIVE_TIMEOUT');
  const lost = new PeerLostError(3, 'connection closed');
  t.equal(lost.code, 'ERR_TSRUN_PEER_LOST');
  t.ok(lost instanceof TsrunError && lost instanceof Error);
  t.match(lost.message, /3/);
  const usage = new UsageError('unknown flag --bogus');
  t.equal(usage.code, 'ERR_TSRUN_USAGE');
  t.ok(usage instanceof TsrunError);
  const wire = new OversizeFrameError('length 2^40');
  t.equal(wire.code, 'ERR_WIRE_OVERSIZE', 'the wire family keeps its own codes');
  t.ok(wire instanceof WireError && wire instanceof TsrunError);
});
