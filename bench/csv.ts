/**
 * CSV reader throughput vs pandas.read_csv on the same file. Prints JSON lines:
 *   {"peer":"tsrun","metric":"csv_mb_per_sec","bytes":...,"value":...}
 * usage: npx tsx bench/csv.ts [FILE]   (default: generates 1.2 M edges into /tmp)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { writeGraph } from '../experiments/datagen/graph.js';
import { loadCsvRange } from '../src/data/index.js';

const file = process.argv[2] ?? '/tmp/tsrun-bench-csv.csv';
if (!existsSync(file)) writeGraph(file, 1_200_000, 7);
const bytes = statSync(file).size;
let best = Number.POSITIVE_INFINITY;
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  await loadCsvRange(file, { dtype: 'int64' });
  best = Math.min(best, (performance.now() - t0) / 1000);
}
console.log(
  JSON.stringify({ peer: 'tsrun', metric: 'csv_mb_per_sec', bytes, sec: best, value: bytes / 1e6 / best }),
);
try {
  const py = `import time,sys,numpy as np,pandas as pd
b=1e9
for _ in range(3):
  t=time.time(); pd.read_csv(sys.argv[1], dtype=np.int64); b=min(b,time.time()-t)
import os; s=os.path.getsize(sys.argv[1]); print('{"peer": "pandas", "metric": "csv_mb_per_sec", "bytes": %d, "sec": %f, "value": %f}' % (s, b, s/1e6/b))`;
  process.stdout.write(execFileSync('/usr/bin/python3', ['-c', py, file], { encoding: 'utf8' }));
} catch (err) {
  console.log(JSON.stringify({ peer: 'pandas', metric: 'csv_mb_per_sec', error: String(err).slice(0, 200) }));
}
