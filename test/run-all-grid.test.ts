/** Pure pieces of the grid runner: sizes, the grid and its file names, flags, commands, hostfiles, ETA. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { cellCommand } from '../experiments/run-all/cell-command.js';
import { GridOptionError } from '../experiments/run-all/errors.js';
import { buildGrid, cellStem } from '../experiments/run-all/grid.js';
import { hostfileHosts, writeHostfileSubset } from '../experiments/run-all/hostfile-subset.js';
import { parseRunOptions } from '../experiments/run-all/options.js';
import { formatDuration, GridProgress } from '../experiments/run-all/progress.js';
import { parseSize } from '../experiments/run-all/sizes.js';

t.test("sizes: the paper's named files, sizes with units, and refused with the flag named", async (t) => {
  t.same(parseSize('test'), { name: 'test', bytes: 9_750_000, edges: 650_000 }, "the seed's test file");
  t.equal(parseSize('1GB').edges, 66_800_000, 'same edge count as datagen --size 1gb');
  t.same(parseSize('1.5mb'), { name: '1.5mb', bytes: 1_500_000, edges: 100_000 });
  t.equal(parseSize('1kb').edges, 1000, 'never fewer than 1000 edges');
  t.throws(
    () => parseSize('big'),
    new GridOptionError(
      'sizes',
      '"big" is not a size: use tiny, test, 1gb, 2.65gb, 10.5gb or a number with kb/mb/gb/tb (e.g. 500mb)',
    ),
  );
  t.throws(() => parseSize('-1gb'), { name: 'GridOptionError' });
});

t.test('the grid: every size × mode × nodes × style, file names as the seed named them', async (t) => {
  const cells = buildGrid({
    experiments: ['pneumonia', 'kmeans', 'pagerank'],
    sizes: [parseSize('1gb'), parseSize('test')],
    ranks: [1, 2, 3],
    styles: ['spmd', 'pool'],
    kmeansModes: ['paper', 'global'],
    pagerankModes: ['global'],
  });
  t.equal(cells.length, 2 * 2 * 3 * 2 + 2 * 1 * 3 * 2 + 3 * 2);
  t.equal(new Set(cells.map((c) => c.stem)).size, cells.length, 'stems are unique');
  t.equal(cells[0]!.stem, 'kmeans_test_1nodes_spmd_paper', 'smallest size first');
  t.equal(cells.at(-1)!.stem, 'pneumonia_xray_3nodes_pool', 'the CNN last');
  t.ok(cells.some((c) => c.stem === 'pagerank_1gb_3nodes_pool_global'));
  t.equal(
    cellStem({ experiment: 'kmeans', style: 'pool', mode: undefined, size: '1gb', nodes: 2 }),
    'kmeans_1gb_2nodes_pool',
  );
});

t.test('flags: profiles and overrides; bad values name the flag', async (t) => {
  const start = parseRunOptions([]);
  t.same(
    start.grid.sizes.map((s) => s.name),
    ['test', '40mb'],
    'npm start: the seed-sized test graph and a larger one, so time-vs-size charts have two points',
  );
  t.same(start.grid.ranks, [1, 2]);
  t.same(start.grid.experiments, ['kmeans', 'pagerank', 'pneumonia']);
  t.same(
    [start.grid.kmeansModes, start.grid.pagerankModes],
    [
      ['paper', 'global'],
      ['global', 'paper'],
    ],
  );
  t.equal(start.peers, 'auto');
  const quick = parseRunOptions(['--quick']);
  t.same(
    quick.grid.sizes.map((s) => s.name),
    ['tiny'],
  );
  t.equal(quick.epochs, 1);
  t.equal(quick.peers, 'off');
  t.same(quick.xrayGenArgs, ['--scale', '0.01', '--size', '96'], 'a small generated X-ray set');
  t.same(parseRunOptions(['--xray-gen-args=--scale 0.2']).xrayGenArgs, ['--scale', '0.2']);
  t.throws(() => parseRunOptions(['--sizse', 'test']), {
    name: 'GridOptionError',
    message: /Unknown argument: sizse/,
  });
  const over = parseRunOptions(['--quick', '--sizes', 'test,1gb', '--ranks', '3,1,2', '--epochs', '4']);
  t.same(
    over.grid.sizes.map((s) => s.name),
    ['test', '1gb'],
  );
  t.same(over.grid.ranks, [1, 2, 3]);
  t.equal(over.epochs, 4);
  t.throws(() => parseRunOptions(['--ranks', '0,2']), { message: '--ranks: "0" is not a positive integer' });
  t.throws(() => parseRunOptions(['--experiments', 'sort']), {
    message: '--experiments: "sort" is not one of kmeans, pagerank, pneumonia',
  });
  t.throws(() => parseRunOptions(['--styles', 'spmd,mpi']), { message: /--styles: "mpi"/ });
  t.throws(() => parseRunOptions(['--epochs', '0']), { message: /--epochs: must be a positive integer/ });
  t.throws(() => parseRunOptions(['--ranks', ',']), {
    message: '--ranks: needs at least one value (comma-separated)',
  });
});

t.test('commands: SPMD under the launcher, pool with --workers, the contract flags', async (t) => {
  const opts = parseRunOptions([
    '--launcher',
    '/x/bin/tsrun.js',
    '--experiments-dir',
    '/x/experiments',
    '--epochs',
    '3',
  ]);
  const [km] = buildGrid({
    ...opts.grid,
    experiments: ['kmeans'],
    ranks: [2],
    styles: ['spmd'],
    kmeansModes: ['global'],
  });
  const spmd = await cellCommand(km!, opts, '/d/g.csv', '/r/o.json');
  t.equal(spmd.cmd, process.execPath);
  t.same(spmd.args, [
    ...['/x/bin/tsrun.js', '--standalone', '--nproc-per-node', '2', '/x/experiments/kmeans/spmd.ts'],
    ...['--input', '/d/g.csv', '--out', '/r/o.json', '--k', '16', '--mode', 'global'],
  ]);
  const [cnn] = buildGrid({ ...opts.grid, experiments: ['pneumonia'], ranks: [3], styles: ['pool'] });
  const pool = await cellCommand(cnn!, opts, '/d/xray', '/r/p.json');
  const script = pool.args.indexOf('/x/experiments/pneumonia/pool.ts');
  t.same(pool.args.slice(script), [
    ...['/x/experiments/pneumonia/pool.ts', '--input', '/d/xray', '--out', '/r/p.json'],
    ...['--epochs', '3', '--batch', '64', '--lr', '0.01', '--image-size', '64', '--workers', '3'],
  ]);
  const loader = pool.args.indexOf('--import');
  t.ok(
    loader >= 0 && loader < script && pool.args[loader + 1].includes('tsx'),
    'pool driver runs with the tsx loader',
  );
  t.ok(pool.args.includes('--conditions=tsrun-source'), "and resolves import 'tsrun' to the sources");
});

t.test('hostfiles: Open MPI syntax, first N hosts, a driver slot for pool jobs', async (t) => {
  t.same(hostfileHosts('# c\nnode1 slots=4\n\nnode2 slots=2 # two\nnode1 slots=1\nnode3\n'), [
    'node1',
    'node2',
    'node3',
  ]);
  const dir = await mkdtemp(join(tmpdir(), 'tsrun-hostfile-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const hf = join(dir, 'hosts');
  await writeFile(hf, 'a slots=8\nb slots=8\nc\n');
  const spmd = await readFile(await writeHostfileSubset(hf, 2, 'spmd', dir), 'utf8');
  t.same(spmd.trim().split('\n').slice(1), ['a slots=1', 'b slots=1']);
  const pool = await readFile(await writeHostfileSubset(hf, 3, 'pool', dir), 'utf8');
  t.same(pool.trim().split('\n').slice(1), ['a slots=2', 'b slots=1', 'c slots=1']);
  await t.rejects(writeHostfileSubset(hf, 4, 'spmd', dir), {
    message: /4 nodes asked but .*hosts lists 3 hosts/,
  });
});

t.test('progress: ETA from finished cells of the same experiment, skipped cells cost nothing', async (t) => {
  const cells = buildGrid({
    experiments: ['kmeans', 'pneumonia'],
    sizes: [parseSize('tiny')],
    ranks: [1],
    styles: ['spmd', 'pool'],
    kmeansModes: ['paper'],
    pagerankModes: [],
  });
  const out: string[] = [];
  const sink = { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream;
  const p = new GridProgress(cells, sink);
  t.equal(p.etaSeconds(), undefined, 'no ETA before a cell has run');
  p.skip(cells[0]!);
  p.start(cells[1]!);
  p.finish(cells[1]!, true, 10);
  t.equal(p.etaSeconds(), 20, 'two CNN cells left, estimated from the mean of all so far');
  p.start(cells[2]!);
  p.finish(cells[2]!, false, 100, '(exit code 1)');
  t.equal(p.etaSeconds(), 100, 'one CNN cell left at the CNN mean');
  t.match(out[0], /^\[run-all\] cell 1\/4 kmeans_tiny_1nodes_spmd_paper: done before, skipped/);
  t.match(
    out[4],
    /cell 3\/4 pneumonia_xray_1nodes_spmd: FAILED in 1m40s \(exit code 1\) \| elapsed 0s \| ETA 1m40s/,
  );
  t.same([formatDuration(59.4), formatDuration(61), formatDuration(3725)], ['59s', '1m01s', '1h02m']);
});
