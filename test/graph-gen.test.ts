import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { writeGraph } from '../experiments/datagen/graph.js';

const dir = mkdtempSync(join(tmpdir(), 'graph-gen-'));

t.test('seed format: header, node1 < node2, sorted, no duplicates, ~6 edges a node, power law', async (t) => {
  const out = join(dir, 'g.csv');
  const r = writeGraph(out, 60_000, 3);
  const lines = readFileSync(out, 'latin1').split('\n');
  t.equal(lines[0], 'node1,node2');
  t.equal(lines.at(-1), '', 'ends with a newline');
  const rows = lines.slice(1, -1).map((l) => l.split(',').map(Number));
  t.equal(rows.length, r.edges);
  t.ok(r.edges > 55_000 && r.edges < 65_000, `edge count near the target (${r.edges})`);
  const deg = new Map<number, number>();
  let ordered = true;
  for (let i = 0; i < rows.length; i++) {
    const [a, b] = rows[i];
    if (!(a < b) || !(b <= 124_836_180 + 101)) ordered = false;
    if (i > 0) {
      const [pa, pb] = rows[i - 1];
      if (pa > a || (pa === a && pb >= b)) ordered = false;
    }
    deg.set(a, (deg.get(a) ?? 0) + 1);
    deg.set(b, (deg.get(b) ?? 0) + 1);
  }
  t.ok(ordered, 'node1 < node2, sorted by (node1, node2), distinct');
  t.equal(deg.size, r.nodes);
  const perNode = r.edges / r.nodes;
  t.ok(perNode > 4 && perNode < 8, `about 6 edges per node (${perNode.toFixed(2)})`);
  const degrees = [...deg.values()].sort((x, y) => y - x);
  t.ok(degrees[0] > 50 * (2 * perNode), `heavy tail: max degree ${degrees[0]}`);
});

t.test('deterministic for a seed, different for another', async (t) => {
  writeGraph(join(dir, 'a.csv'), 20_000, 5);
  writeGraph(join(dir, 'b.csv'), 20_000, 5);
  writeGraph(join(dir, 'c.csv'), 20_000, 6);
  const a = readFileSync(join(dir, 'a.csv'));
  t.ok(a.equals(readFileSync(join(dir, 'b.csv'))));
  t.notOk(a.equals(readFileSync(join(dir, 'c.csv'))));
});
