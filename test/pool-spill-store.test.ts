// SpillStore on its own: least recently used objects spill past the limit and read back intact,
// deleting removes their files, clear() removes the directory, and a failed spill is an
// ObjectStoreFullError with the sizes.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ObjectStoreFullError } from '../src/pool/errors.js';
import { SpillStore } from '../src/pool/spill-store.js';
import { decodePayload, encodePayload } from '../src/wire/index.js';

t.test('spills the least recently used past the limit, reads back, cleans up', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'tsrun-spill-unit-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'tsrun-spill-1', '1');
  const s = new SpillStore(3000, dir);
  for (let i = 0; i < 5; i++) s.set(String(i), encodePayload(new Float64Array(125).fill(i))); // 1000 B each
  const st = s.summary();
  t.equal(st.inMemory, 3000);
  t.equal(st.spilled, 2000, 'the two oldest went to disk');
  t.equal(readdirSync(dir).length, 2);
  for (let i = 0; i < 5; i++) {
    const o = s.get(String(i))!;
    t.same(Array.from(decodePayload(o, o.frames) as Float64Array).slice(0, 2), [i, i], `object ${i} intact`);
  }
  s.delete('0');
  t.equal(readdirSync(dir).length, 1, 'deleting a spilled object removes its file');
  s.set('big', encodePayload(new Float64Array(1000))); // larger than the whole store: straight to disk
  t.equal(s.summary().inMemory, 3000);
  s.clear();
  t.notOk(existsSync(join(base, 'tsrun-spill-1')), 'clear() removes the spill directory');
});

t.test('a spill that cannot be written is ObjectStoreFullError with sizes', async (t) => {
  const s = new SpillStore(1000, '/dev/null/tsrun-spill/1');
  s.set('a', encodePayload(new Float64Array(100)));
  const err = t.throws(() => s.set('b', encodePayload(new Float64Array(100)))) as ObjectStoreFullError;
  t.ok(err instanceof ObjectStoreFullError, String(err));
  t.equal(err.objectBytes, 800);
  t.equal(err.limitBytes, 1000);
  t.match(err.message, /800 bytes.*800 of its 1000 bytes.*TSRUN_SPILL_DIR/s);
});
