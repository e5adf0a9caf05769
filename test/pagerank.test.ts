/**
 * The PageRank scripts as a user runs them: spmd.ts under the real launcher on 1-3 ranks (global mode
 * against networkx, paper mode against a hand-checked graph and across rank counts), and bad input.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const root = fileURLToPath(new URL('..', import.meta.url));
const graph = fileURLToPath(new URL('./fixtures/reference/graph.csv', import.meta.url));
const ref = JSON.parse(
  readFileSync(new URL('./fixtures/reference/graph.pagerank.json', import.meta.url), 'utf8'),
);
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'pagerank-'));
const haveGroup = existsSync(join(root, 'src/index.ts'));

interface Result {
  experiment: string;
  style: string;
  mode: string;
  ranks: number;
  nodes: number;
  edges: number;
  iterations: number;
  seconds: number;
  sum: number;
  top: [number, number][];
}

async function spmd(n: number, args: string[]): Promise<{ res: Result; stdout: string }> {
  const out = join(dir, `spmd-${n}-${Math.random().toString(36).slice(2)}.json`);
  const { stdout } = await run(
    process.execPath,
    [
      join(root, 'bin/tsrun.js'),
      '--standalone',
      '--nproc-per-node',
      String(n),
      join(root, 'experiments/pagerank/spmd.ts'),
      ...args,
      '--out',
      out,
    ],
    { cwd: root, timeout: 120_000 },
  );
  return { res: JSON.parse(readFileSync(out, 'utf8')), stdout };
}

t.test('global mode matches networkx on 1, 2 and 3 ranks', { skip: !haveGroup && 'no init()' }, async (t) => {
  for (const n of [1, 2, 3]) {
    const { res, stdout } = await spmd(n, ['--input', graph, '--top', '20']);
    t.match(res, {
      experiment: 'pagerank',
      style: 'spmd',
      mode: 'global',
      ranks: n,
      nodes: ref.nodes,
      edges: ref.edges,
    });
    t.same(
      res.top.map((r) => r[0]),
      ref.top20.map((r: [number, number]) => r[0]),
      `${n} ranks: top 20 ids in networkx order`,
    );
    const worst = Math.max(...res.top.map((r, i) => Math.abs(r[1] - ref.top20[i][1])));
    t.ok(worst < 1e-8, `${n} ranks: scores within 1e-8 (worst ${worst})`);
    t.ok(Math.abs(res.sum - 1) < 1e-9, `${n} ranks: scores sum to 1 (${res.sum})`);
    const [topId, topScore] = ref.top20[0] as [number, number];
    const leader = `Top 20 nodes by PageRank:\n1. Node ${topId}: ${String(topScore).slice(0, 6)}`;
    t.ok(stdout.includes(leader), `the paper's text format, networkx's leader first (${leader})`);
    t.match(stdout, /Time taken \(tsrun-spmd\): [\d.]+ seconds/);
  }
});

t.test(
  'global mode on a single edge and on a path of three nodes',
  { skip: !haveGroup && 'no init()' },
  async (t) => {
    const one = join(dir, 'one.csv');
    writeFileSync(one, 'node1,node2\n5,900000000\n');
    const { res } = await spmd(2, ['--input', one]);
    t.same(res.top, [
      [5, 0.5],
      [900000000, 0.5],
    ]);
    // Path 1-2-3: PageRank solves x2 = 0.05 + 0.85·(x1 + x3), x1 = x3 = 0.05 + 0.85·x2/2.
    const path = join(dir, 'path.csv');
    writeFileSync(path, '1,2\n3,2\n');
    const r = (await spmd(1, ['--input', path, '--tol', '1e-14'])).res;
    const x2 = (0.05 + 0.85 * 2 * 0.05) / (1 - 0.85 * 0.85);
    t.equal(r.top[0][0], 2);
    t.ok(Math.abs(r.top[0][1] - x2) < 1e-12, `centre ${r.top[0][1]} vs ${x2}`);
    t.ok(Math.abs(r.top[1][1] - (1 - x2) / 2) < 1e-12);
  },
);

t.test(
  'paper mode: hand-checked blocks, same result on 1-3 ranks',
  { skip: !haveGroup && 'no init()' },
  async (t) => {
    // Blocks of 2 edges: the star 10-20,10-30 and the path 10-40-50 (a star centred on 40). Each block is
    // torch_ppr's star: centre a = (2.9/60)/0.0975, leaves b = (1-a)/2; sums over blocks, halved.
    const small = join(dir, 'blocks.csv');
    writeFileSync(small, 'node1,node2\n10,20\n10,30\n10,40\n40,50\n');
    const a = 2.9 / 60 / 0.0975;
    const b = (1 - a) / 2;
    const want = new Map([
      [10, (a + b) / 2],
      [40, a / 2],
      [20, b / 2],
      [30, b / 2],
      [50, b / 2],
    ]);
    for (const n of [1, 2]) {
      const { res } = await spmd(n, ['--input', small, '--mode', 'paper', '--block-edges', '2']);
      t.match(res, { mode: 'paper', edges: 4, nodes: 5 });
      t.same(
        res.top.map((r) => r[0]),
        [10, 40, 20, 30, 50],
      );
      for (const [id, s] of res.top)
        t.ok(Math.abs(s - (want.get(id) ?? -1)) < 1e-4, `${n} ranks node ${id}: ${s}`);
    }
    const tops: [number, number][][] = [];
    for (const n of [1, 2, 3]) {
      const { res } = await spmd(n, ['--input', graph, '--mode', 'paper', '--block-edges', '3000']);
      t.match(res, { edges: ref.edges, nodes: ref.nodes, blocks: 4 });
      t.ok(Math.abs(res.sum - 1) < 1e-9);
      tops.push(res.top);
    }
    for (const top of tops.slice(1)) {
      t.same(
        top.map((r) => r[0]),
        tops[0].map((r) => r[0]),
        'same top ids',
      );
      // Each id's block scores are summed per rank, then over ranks: only the rounding order differs.
      top.forEach((r, i) => {
        t.ok(Math.abs(r[1] - tops[0][i][1]) < 1e-15, `score ${i}`);
      });
    }
  },
);

t.test(
  'bad input gives a clear error and a non-zero exit',
  { skip: !haveGroup && 'no init()' },
  async (t) => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'node1,node2\n1,2\n3,x\n4,5\n');
    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, '');
    const header = join(dir, 'header.csv');
    writeFileSync(header, 'node1,node2\n');
    const three = join(dir, 'three.csv');
    writeFileSync(three, 'a,b,c\n1,2,3\n');
    const cases: [string, RegExp][] = [
      [bad, /bad\.csv:3: a field is not a(n integer| number)/],
      [empty, /empty\.csv: no edges/],
      [header, /header\.csv: no edges/],
      [three, /three\.csv: an edge list needs 2 columns/],
    ];
    for (const [file, re] of cases) {
      const err = await spmd(2, ['--input', file]).then(
        () => undefined,
        (e: { code: number; stderr: string }) => e,
      );
      t.ok(err, `${file} fails`);
      t.not(err?.code, 0);
      t.match(err?.stderr ?? '', re, `${file}: ${re}`);
    }
  },
);
