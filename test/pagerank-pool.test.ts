/** The PageRank pool driver as a user runs it (embedded pool, real worker processes). */
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
const dir = mkdtempSync(join(tmpdir(), 'pagerank-pool-'));

interface Result {
  style: string;
  mode: string;
  ranks: number;
  nodes: number;
  edges: number;
  blocks?: number;
  sum: number;
  top: [number, number][];
}

async function pool(workers: number, args: string[]): Promise<Result> {
  const out = join(dir, `pool-${workers}-${Math.random().toString(36).slice(2)}.json`);
  await run(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'experiments/pagerank/pool.ts'),
      ...args,
      '--workers',
      String(workers),
      '--out',
      out,
    ],
    { cwd: root, timeout: 120_000 },
  );
  return JSON.parse(readFileSync(out, 'utf8'));
}

const havePool = existsSync(join(root, 'src/pool/index.ts'));

t.test(
  'pool style: global mode matches networkx on 1-3 workers',
  { skip: !havePool && 'no pool' },
  async (t) => {
    for (const w of [1, 2, 3]) {
      const res = await pool(w, ['--input', graph, '--top', '20']);
      t.match(res, { style: 'pool', mode: 'global', ranks: w, nodes: ref.nodes, edges: ref.edges });
      t.same(
        res.top.map((r) => r[0]),
        ref.top20.map((r: [number, number]) => r[0]),
        `${w} workers: top 20 ids`,
      );
      const worst = Math.max(...res.top.map((r, i) => Math.abs(r[1] - ref.top20[i][1])));
      t.ok(worst < 1e-8, `${w} workers: scores within 1e-8 (worst ${worst})`);
      t.ok(Math.abs(res.sum - 1) < 1e-9);
    }
  },
);

t.test(
  'pool style: paper mode by hand and the same on 1 and 2 workers',
  { skip: !havePool && 'no pool' },
  async (t) => {
    // 24-byte blocks: the header and 10-20, 10-30 (a star on 10), then 10-40, 40-50 (a star on 40).
    const small = join(dir, 'pool-blocks.csv');
    writeFileSync(small, 'node1,node2\n10,20\n10,30\n10,40\n40,50\n');
    const a = 2.9 / 60 / 0.0975;
    const b = (1 - a) / 2;
    const res = await pool(2, ['--input', small, '--mode', 'paper', '--block-mb', String(24 / 1048576)]);
    t.match(res, { blocks: 2, edges: 4, nodes: 5 });
    const want = [(a + b) / 2, a / 2, b / 2, b / 2, b / 2];
    t.same(
      res.top.map((r) => r[0]),
      [10, 40, 20, 30, 50],
    );
    res.top.forEach((r, i) => {
      t.ok(Math.abs(r[1] - want[i]) < 1e-4, `node ${r[0]}: ${r[1]}`);
    });
    const one = await pool(1, ['--input', graph, '--mode', 'paper', '--block-mb', '0.05']);
    const two = await pool(2, ['--input', graph, '--mode', 'paper', '--block-mb', '0.05']);
    t.match(one, { blocks: 4, edges: ref.edges, nodes: ref.nodes });
    t.same(two.top, one.top, 'bit-identical: the driver sums blocks in file order');
  },
);
