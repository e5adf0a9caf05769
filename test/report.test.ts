import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { buildReport } from '../experiments/report/build-report.js';
import { ResultFormatError } from '../experiments/report/errors.js';
import { parseCellResult } from '../experiments/report/result-types.js';
import { markdownTable } from '../experiments/report/tables.js';

const SAMPLE = new URL('./fixtures/report/sample-run/', import.meta.url);

async function sampleCopy(t: { teardown: (fn: () => unknown) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tsrun-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await cp(SAMPLE, dir, { recursive: true });
  return dir;
}

t.test('report from fixed JSON: every figure as a decodable PNG and an SVG, and the tables', async (t) => {
  const dir = await sampleCopy(t);
  const out = await buildReport(dir);
  t.equal(out.results, 36, 'all 36 sample results read');
  t.equal(out.invalid, 0);
  const names = out.charts.map((c) => c.name).sort();
  t.same(names, [
    'kmeans-global-time-vs-nodes',
    'kmeans-global-time-vs-size',
    'kmeans-paper-time-vs-nodes',
    'kmeans-paper-time-vs-size',
    'pagerank-global-time-vs-nodes',
    'pagerank-global-time-vs-size',
    'pagerank-paper-time-vs-nodes',
    'pagerank-paper-time-vs-size',
    'pneumonia-accuracy',
    'pneumonia-loss',
    'pneumonia-time-vs-nodes',
  ]);
  for (const c of out.charts) {
    const meta = await sharp(await readFile(c.pngFile)).metadata();
    t.equal(meta.format, 'png', `${c.name} is a PNG`);
    t.ok(meta.width! >= 600 && meta.width! <= 4000, `${c.name} width ${meta.width} is readable`);
    t.ok(meta.height! >= 300 && meta.height! <= 3000, `${c.name} height ${meta.height} is readable`);
    const svg = await readFile(c.svgFile, 'utf8');
    t.match(svg, /^<svg/, `${c.name} SVG`);
    t.match(
      svg,
      /execution time \(s\)|training time \(s\)|test accuracy|training loss/,
      `${c.name} has a titled axis`,
    );
    t.match(svg, /spmd \(PyTorch style\)|spmd · 1 node/, `${c.name} has a legend`);
  }
  const md = await readFile(out.reportFile, 'utf8');
  t.match(md, '![k-means, paper mode: execution time vs node count](charts/kmeans-paper-time-vs-nodes.png)');
  t.match(md, '| dataset size | nodes | spmd Calinski–Harabasz | pool Calinski–Harabasz |');
  t.match(md, '| 1gb (1.0 GB) | 2 | 21561.7 | 21561.7 |', 'CH row per size × nodes × style');
  t.match(md, '| test (20 MB) | 1 | 3.57 | 4.37 | 1.22 |', 'time row with the pool/spmd ratio');
  t.match(md, '| run (style · nodes) | epoch 1 | epoch 2 | epoch 3 |', 'loss table has one column per epoch');
  t.match(md, '| spmd | 2 | 82.0 % |', 'accuracy table');
  t.match(md, '## Peers measured in the same run');
  t.match(md, 'dask+sklearn: 2.50 s', 'peer figure with its ratio row');
  t.match(
    md,
    '| pneumonia_xray_3nodes_pool | exit code 1: out of memory |',
    'failed cell from run-summary.json',
  );
  // Size panels are ordered by bytes, not alphabetically ("1gb" < "test" as strings).
  const spec = await readFile(join(dir, 'charts', 'kmeans-paper-time-vs-size.svg'), 'utf8');
  t.ok(spec.indexOf('test (20 MB)') < spec.indexOf('1gb (1.0 GB)'), 'sizes ordered by bytes on the x axis');
});

t.test('an invalid result file is listed in the report, the others still drawn', async (t) => {
  const dir = await sampleCopy(t);
  await writeFile(
    join(dir, 'json', 'kmeans_bad_1nodes_spmd_paper.json'),
    '{"experiment":"kmeans","style":"spmd"',
  );
  await writeFile(
    join(dir, 'json', 'pagerank_bad_1nodes_spmd_global.json'),
    '{"experiment":"pagerank","style":"mpi","seconds":1}',
  );
  const out = await buildReport(dir);
  t.equal(out.results, 36);
  t.equal(out.invalid, 2);
  const md = await readFile(out.reportFile, 'utf8');
  t.match(md, /kmeans_bad_1nodes_spmd_paper\.json \| not valid JSON/);
  t.match(md, /pagerank_bad_1nodes_spmd_global\.json \| "style" must be spmd or pool, got "mpi"/);
});

t.test('an empty results directory gives a report without charts, not a crash', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrun-report-empty-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = await buildReport(dir);
  t.equal(out.results, 0);
  t.equal(out.charts.length, 0);
  t.match(await readFile(out.reportFile, 'utf8'), '# Ray style vs PyTorch style: results');
});

t.test('parseCellResult names the file and the field at fault', async (t) => {
  t.throws(() => parseCellResult([], 'a.json'), new ResultFormatError('a.json', 'not a JSON object'));
  t.throws(() => parseCellResult({ experiment: 'sort', style: 'spmd', seconds: 1, ranks: 1 }, 'b.json'), {
    message: /b\.json: "experiment" must be one of kmeans, pagerank, pneumonia, got "sort"/,
  });
  t.throws(() => parseCellResult({ experiment: 'kmeans', style: 'pool', ranks: 1 }, 'c.json'), {
    message: /c\.json: "seconds" is missing/,
  });
  t.throws(
    () =>
      parseCellResult(
        { experiment: 'pneumonia', style: 'pool', ranks: 1, seconds: 2, losses: [1, 'x'] },
        'd.json',
      ),
    {
      message: /"losses" must be an array of numbers/,
    },
  );
  const r = parseCellResult(
    { experiment: 'pagerank', style: 'spmd', mode: 'global', ranks: 3, seconds: 2.5 },
    'e.json',
  );
  t.equal(r.nodes, 3, 'node count falls back to ranks without a cell object');
  t.equal(r.mode, 'global');
  t.equal(r.size, 'unknown');
});

t.test('markdownTable escapes pipes so a label cannot break a row', async (t) => {
  t.equal(markdownTable(['a', 'b'], [['x|y', '1']]), '| a | b |\n| --- | --- |\n| x\\|y | 1 |');
});
