// Objects are freed when no ObjectRef remains: a driver (with --expose-gc) drops its refs and the
// head's object directory empties.
import { execFileSync } from 'node:child_process';
import t from 'tap';

const DRIVER = new URL('./fixtures/pool/free-driver.ts', import.meta.url).pathname;

t.test('dropping every ref frees the objects', async (t) => {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', DRIVER], {
    encoding: 'utf8',
    env: { ...process.env, TSRUN_POOL_ADDRESS: '' },
    timeout: 120_000,
  });
  const r = JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
  t.equal(r.held - r.before, 50, 'the head tracked the 50 results');
  t.equal(r.after, r.before, 'and forgot them once the refs were collected');
});
