import t from 'tap';
import {
  expandNodelist,
  firstNode,
  MAX_EXPANDED_HOSTS,
  NodelistSyntaxError,
} from '../src/engines/slurm-nodelist.js';
import { EnvironmentError } from '../src/errors.js';

t.test('expands Slurm host lists as scontrol show hostnames does', async (t) => {
  const cases: Array<[string, string[]]> = [
    ['node1', ['node1']],
    ['node[01-03,07]', ['node01', 'node02', 'node03', 'node07']],
    ['a[1-2],b3', ['a1', 'a2', 'b3']],
    ['n[8-11]', ['n8', 'n9', 'n10', 'n11']],
    ['n[08-11]', ['n08', 'n09', 'n10', 'n11']],
    ['n[098-101]', ['n098', 'n099', 'n100', 'n101']],
    ['n[0]', ['n0']],
    ['n[00]', ['n00']],
    ['rack[1-2]-n[01-02]', ['rack1-n01', 'rack1-n02', 'rack2-n01', 'rack2-n02']],
    ['gpu[3,1],cpu-[5-6].ib', ['gpu3', 'gpu1', 'cpu-5.ib', 'cpu-6.ib']],
    ['[1-2]x', ['1x', '2x']],
    ['host-a.example.org,host-b.example.org', ['host-a.example.org', 'host-b.example.org']],
  ];
  for (const [list, want] of cases) t.same(expandNodelist(list), want, list);
});

t.test('the first host is the head of the expansion, without expanding the rest', async (t) => {
  t.equal(firstNode('node[07-09,01]'), 'node07');
  t.equal(firstNode('a[1-2],b3'), 'a1');
  t.equal(firstNode('rack[2-3]-n[010-020]'), 'rack2-n010');
  t.equal(firstNode('login'), 'login');
  for (const list of ['n[01-03,07]', 'x[5-6]-y[2-3],z', 'solo'])
    t.equal(firstNode(list), expandNodelist(list)[0]);
});

t.test('malformed lists are EnvironmentErrors naming the variable, the list and the problem', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['', /is empty/],
    ['node[1-3', /"\[" at character 5 is never closed/],
    ['node1-3]', /"\]" at character 8 closes nothing/],
    ['node[]', /empty brackets/],
    ['node[a-b]', /"a-b", which is neither a number nor a range/],
    ['node[3-1]', /range 3-1 runs backwards/],
    ['node[1-[2]]', /brackets nest/],
    ['a,,b', /empty name before the comma at character 3/],
    ['a,', /ends with a comma/],
    ['a b', /whitespace at character 2/],
    [`n[0-${MAX_EXPANDED_HOSTS + 5}]`, /more than 1000000 hosts/],
  ];
  for (const [list, re] of bad) {
    for (const f of [expandNodelist, firstNode]) {
      try {
        f(list, 'SLURM_STEP_NODELIST');
        t.fail(`${f.name}(${JSON.stringify(list)}) should throw`);
      } catch (e) {
        t.type(e, NodelistSyntaxError);
        t.type(e, EnvironmentError);
        t.match((e as Error).message, re, list);
        t.match((e as Error).message, `SLURM_STEP_NODELIST=${JSON.stringify(list)}`);
      }
    }
  }
});
