// The configuration modules: fields read from an environment when asked (unset or empty = the default, a
// bad number = a ConfigError naming the variable), `init()` taking `opts.env` over process.env, and the
// flag table giving each flag both spellings and its environment twin.
import { resolve } from 'node:path';
import t from 'tap';
import { COLLECTIVES_ENV, readCollectivesConfig } from '../collectives/collectives-config.js';
import { init } from '../collectives/index.js';
import { FLAGS, type Flag } from '../launcher/cli-flags.js';
import { parseCli } from '../launcher/cli-options.js';
import { readClusterDaemonConfig } from '../launcher/launcher-config.js';
import { ConfigError } from '../src/errors.js';

t.test(
  'fields: default when unset or empty, the value when set, a ConfigError when it does not parse',
  async (t) => {
    t.equal(readCollectivesConfig({}).timeoutMs, 300_000);
    t.equal(readCollectivesConfig({ TSRUN_TIMEOUT_MS: '' }).timeoutMs, 300_000, 'empty is unset');
    t.equal(readCollectivesConfig({ TSRUN_TIMEOUT_MS: '1500' }).timeoutMs, 1500);
    t.throws(() => readCollectivesConfig({ TSRUN_TIMEOUT_MS: '5s' }), {
      constructor: ConfigError,
      code: 'ERR_TSRUN_CONFIG',
      message: "TSRUN_TIMEOUT_MS must be a non-negative integer, got '5s'",
    });
    t.throws(() => readCollectivesConfig({ TSRUN_CHUNK_BYTES: '-1' }), { message: /TSRUN_CHUNK_BYTES/ });
    const c = readCollectivesConfig({ TSRUN_ENCRYPT: '1', TSRUN_SHM: '0', TSRUN_BIND_ADDR: '10.1.2.3' });
    t.same(
      [c.encrypt, c.transport.sharedMemory, c.transport.bindAddress, c.transport.chunkBytes],
      [true, false, '10.1.2.3', 1 << 20],
    );
    t.same(
      ['', '0', '1', 'yes'].map((v) => readCollectivesConfig({ TSRUN_AUTO_DESTROY: v }).autoDestroy),
      ['hint', 'off', 'destroy', 'hint'],
    );
    t.equal(COLLECTIVES_ENV.flightDir.read({ TSRUN_FLIGHT_DIR: '/x' }), '/x');
    const head = readClusterDaemonConfig({ TSRUN_CLUSTER_ROLE: 'head', TSRUN_CLUSTER_DASHBOARD_PORT: '0' });
    t.same([head.role, head.bind, head.dashboardPort, head.dashboardHost], ['head', '0.0.0.0', 0, undefined]);
    t.equal(readClusterDaemonConfig({}).role, 'node');
  },
);

t.test('init() reads its config from opts.env, not process.env', async (t) => {
  const saved = process.env.TSRUN_TIMEOUT_MS;
  process.env.TSRUN_TIMEOUT_MS = 'not a number';
  t.teardown(() => {
    if (saved === undefined) delete process.env.TSRUN_TIMEOUT_MS;
    else process.env.TSRUN_TIMEOUT_MS = saved;
  });
  const env = { RANK: '0', WORLD_SIZE: '1', TSRUN_TIMEOUT_MS: '1234', TSRUN_AUTO_DESTROY: '0' };
  const pg = await init({ env });
  t.equal(pg.size, 1);
  t.equal(pg.timeoutMs, 1234, "the group's default timeout is opts.env's TSRUN_TIMEOUT_MS");
  await pg.destroy();
  await t.rejects(init({ env: { ...env, TSRUN_TIMEOUT_MS: 'x' } }), ConfigError, 'and opts.env is checked');
});

t.test('every flag: both spellings give the same value; an environment twin fills in', async (t) => {
  const value: Record<string, string> = { 'nproc-per-node': '2', 'node-rank': '0', 'master-port': '29500' };
  for (const [name, f] of Object.entries(FLAGS as Record<string, Flag<unknown>>)) {
    if (!f.alias) continue;
    const v = f.kind === 'switch' ? [] : [value[name] ?? '7'];
    const needs = name === 'dashboard-host' ? ['--dashboard-port', '0'] : [];
    const a = parseCli([...needs, `--${name}`, ...v, 'x.ts']);
    const b = parseCli([...needs, `--${f.alias}`, ...v, 'x.ts']);
    t.same(a, b, `--${name} and --${f.alias}`);
  }
  const saved = { flight: process.env.TSRUN_FLIGHT_DIR, rdzv: process.env.TSRUN_RDZV_ID };
  t.teardown(() => {
    for (const [k, v] of [
      ['TSRUN_FLIGHT_DIR', saved.flight],
      ['TSRUN_RDZV_ID', saved.rdzv],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  process.env.TSRUN_FLIGHT_DIR = 'dumps';
  process.env.TSRUN_RDZV_ID = 'job-9';
  const o = parseCli(['x.ts'])!;
  t.equal(o.dumpOnFailure, resolve('dumps'), 'TSRUN_FLIGHT_DIR is --dump-on-failure');
  t.equal(o.rdzvId, 'job-9', 'TSRUN_RDZV_ID is --rdzv-id');
  t.equal(parseCli(['--rdzv-id', 'given', 'x.ts'])!.rdzvId, 'given', 'the flag wins');
  delete process.env.TSRUN_FLIGHT_DIR;
  delete process.env.TSRUN_RDZV_ID;
  const d = parseCli(['x.ts'])!;
  t.same(
    [d.nprocPerNode, d.nnodes, d.nodeRank, d.maxRestarts, d.killGraceMs, d.standalone, d.sshOpt, d.env],
    [1, 1, 0, 0, 5000, false, [], {}],
    'defaults',
  );
  t.equal(d.dumpOnFailure, undefined);
});
