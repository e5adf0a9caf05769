import t from 'tap';
import { HostfileError, UsageError } from '../launcher/errors.js';
import { isLocalHost, parseHostfileText, parseHostList } from '../launcher/hostfile.js';
import { planHosts } from '../launcher/ssh-launcher.js';

t.test('Open MPI syntax: slots, comments, blank lines, repeated hosts', async (t) => {
  const text =
    '# cluster\n\nnode1 slots=2\nnode2   slots=4 max-slots=8  # big one\n10.0.0.3\nnode1 slots=1\n';
  t.same(parseHostfileText(text, 'hf'), [
    { host: 'node1', slots: 3 },
    { host: 'node2', slots: 4 },
    { host: '10.0.0.3', slots: 1 },
  ]);
});

t.test('syntax errors name the file and line', async (t) => {
  const cases: [string, RegExp][] = [
    ['a slots=2\nb slot=3\n', /^hf:2: unknown hostfile field 'slot'/],
    ['a slots=0\n', /^hf:1: slots must be a positive integer, got '0'/],
    ['a slots=two\n', /^hf:1: slots must be a positive integer/],
    ['\n\nhost junk\n', /^hf:3: expected 'slots=N'/],
    ['# only comments\n\n', /^hf:1: the hostfile names no host/],
    ['bad/host slots=1\n', /^hf:1: 'bad\/host' is not a host name/],
  ];
  for (const [text, re] of cases) {
    t.throws(() => parseHostfileText(text, 'hf'), HostfileError, JSON.stringify(text));
    try {
      parseHostfileText(text, 'hf');
    } catch (err) {
      t.match((err as Error).message, re);
    }
  }
});

t.test('--hosts list', async (t) => {
  t.same(parseHostList('a:2,b,c:4'), [
    { host: 'a', slots: 2 },
    { host: 'b', slots: 1 },
    { host: 'c', slots: 4 },
  ]);
  t.same(parseHostList('[::1]:2'), [{ host: '::1', slots: 2 }]);
  t.throws(() => parseHostList('a:2,,b'), UsageError);
  t.throws(() => parseHostList('a:0'), UsageError);
});

t.test('ranks are host-major in hostfile order', async (t) => {
  t.same(
    planHosts([
      { host: 'a', slots: 2 },
      { host: 'b', slots: 3 },
      { host: 'c', slots: 1 },
    ]).map((h) => h.rankOffset),
    [0, 2, 5],
  );
  t.ok(isLocalHost('localhost'));
  t.notOk(isLocalHost('10.0.0.1'));
});
