// The table of bad inputs: each one gets the expected one-line error (and, for tsrun, exit 2 with nothing
// started). Launcher cases run the real CLI; data cases call the readers the experiments use, on real
// broken files made here; one case runs an experiment under tsrun end to end.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import sharp from 'sharp';
import t, { type Test as TapTest } from 'tap';
import { inspectArrow, readArrowChunks } from '../src/data/arrow-ipc.js';
import { loadCsvRange } from '../src/data/csv-reader.js';
import { BatchLoader, listImageFolder } from '../src/data/images.js';
import {
  SSH_ADDR,
  sshdUnavailable,
  startWrongKeySshd,
  unusedPort,
} from './fixtures/hardening/loopback-sshd.js';
import { runTsrun } from './helpers/ssh-tsrun.js';

const dir = mkdtempSync(join(tmpdir(), 'tsrun-hardening-input-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const okScript = file('ok.mts', 'console.log("ran");\n');
let tried = 0;

function oneLine(t: TapTest, text: string, re: RegExp, what: string) {
  tried++;
  const lines = text.trim().split('\n');
  t.equal(lines.length, 1, `${what}: a single line (${JSON.stringify(text.trim())})`);
  t.match(lines[0], re, what);
}

t.test('tsrun usage errors: exit 2, one `tsrun: error:` line, no rank started', async (t) => {
  const hf = (name: string, text: string) => file(name, text);
  const noSshPort = await unusedPort(SSH_ADDR);
  const cases: [string, string[], RegExp][] = [
    [
      'malformed hostfile line',
      ['--hostfile', hf('hf-junk', 'a slots=1\nb junk\n'), okScript],
      /hf-junk:2: expected 'slots=N'/,
    ],
    [
      'unknown hostfile field',
      ['--hostfile', hf('hf-field', 'a slot=2\n'), okScript],
      /hf-field:1: unknown hostfile field 'slot'/,
    ],
    [
      'slots=0',
      ['--hostfile', hf('hf-zero', 'a slots=2\nb slots=0\n'), okScript],
      /hf-zero:2: slots must be a positive integer, got '0'/,
    ],
    [
      'hostfile naming no host',
      ['--hostfile', hf('hf-empty', '# nothing\n'), okScript],
      /hf-empty:1: the hostfile names no host/,
    ],
    [
      'hostfile not found',
      ['--hostfile', join(dir, 'missing-hosts'), okScript],
      /cannot read hostfile .*missing-hosts/,
    ],
    ['--hosts with slots 0', ['--hosts', 'a:0', okScript], /--hosts: 'a:0' has slot count 0/],
    ['unknown flag', ['--nproc-per-node', '2', '--bogus', okScript], /Unknown argument: bogus/],
    [
      '--nproc-per-node 0',
      ['--nproc-per-node', '0', okScript],
      /--nproc-per-node must be .*(positive|at least 1|>= 1)/,
    ],
    [
      '--nproc-per-node not a number',
      ['--nproc-per-node', 'lots', okScript],
      /--nproc-per-node must be an integer/,
    ],
    ['script not found', [join(dir, 'nope.ts')], /script not found: .*nope\.ts/],
    ['no script', [], /missing script/],
    [
      'unreachable host (nothing listens)',
      ['--hosts', `${SSH_ADDR}:1`, '--ssh-opt', `-p ${noSshPort}`, '--ssh-opt', 'BatchMode=yes', okScript],
      new RegExp(`cannot start ranks on host ${SSH_ADDR.replace(/\./g, '\\.')} over SSH: .*refused`),
    ],
  ];
  for (const [what, args, re] of cases) {
    const r = await runTsrun(args);
    t.equal(r.code, 2, `${what}: exit 2`);
    oneLine(t, r.stderr, new RegExp(`^tsrun: error: .*${re.source}`), what);
    t.equal(r.stdout, '', `${what}: nothing ran`);
  }
});

t.test('duplicate hosts add their slots (Open MPI semantics), not an error', async (t) => {
  const { parseHostfileText } = await import('../launcher/hostfile.js');
  t.same(parseHostfileText('a slots=1\nb slots=2\na slots=3\n', 'hf'), [
    { host: 'a', slots: 4 },
    { host: 'b', slots: 2 },
  ]);
  tried++;
});

const noSshd = sshdUnavailable();
t.test(
  'SSH auth failure: one line naming the host and ssh’s message',
  { skip: noSshd ?? false },
  async (t) => {
    const sshd = await startWrongKeySshd();
    t.teardown(() => sshd.stop());
    const r = await runTsrun([
      '--hosts',
      `${SSH_ADDR}:1`,
      ...sshd.sshOpts.flatMap((o) => ['--ssh-opt', o]),
      okScript,
    ]);
    t.equal(r.code, 2);
    oneLine(
      t,
      r.stderr,
      /^tsrun: error: cannot start ranks on host 127\.0\.0\.3 over SSH: .*Permission denied/,
      'SSH auth failure',
    );
    t.equal(r.stdout, '');
  },
);

t.test('a script that throws at import: root-cause block with its error', async (t) => {
  const bad = file('throws.mts', 'throw new Error("config file settings.json is missing");\n');
  const r = await runTsrun(['--nproc-per-node', '2', bad]);
  tried++;
  t.equal(r.code, 1);
  t.match(
    r.stderr,
    /tsrun: job failed\n {2}root cause:\n {4}host: +\S+\n {4}rank: +\d\n {4}status: exit code 1\n/,
  );
  t.match(r.stderr, /\| .*Error: config file settings\.json is missing/);
});

t.test('CSV inputs: bad line, wrong column count, non-numeric id, empty file', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['bad line', 'x,y\n1,2\n3,\n', /bad-line\.csv:3: /],
    ['wrong column count', 'x,y\n1,2\n3,4,5\n', /cols\.csv:3: more than 2 fields: "3,4,5"/],
    ['non-numeric id', 'node1,node2\n1,2\nabc,3\n', /id\.csv:3: a field is not a number: "abc,3"/],
    ['empty file', '', /empty\.csv: no data rows/],
    ['header only', 'node1,node2\n', /header\.csv: no data rows/],
  ];
  const names = ['bad-line', 'cols', 'id', 'empty', 'header'];
  for (const [i, [what, text, re]] of cases.entries()) {
    const p = file(`${names[i]}.csv`, text);
    const err = await loadCsvRange(p).then(
      () => undefined,
      (e: Error) => e,
    );
    t.ok(err, `${what}: rejected`);
    t.match(err?.name, /^(CsvParseError|EmptyCsvError)$/, `${what}: typed error`);
    oneLine(t, err?.message ?? '', re, what);
  }
});

t.test('Arrow IPC file truncated: ArrowInputError naming the file', async (t) => {
  const ipc = tableToIPC(tableFromArrays({ a: Float64Array.from({ length: 1000 }, (_, i) => i) }), 'file');
  for (const cut of [ipc.length - 20, Math.floor(ipc.length / 2), 10]) {
    const p = file(`cut-${cut}.arrow`, ipc.subarray(0, cut));
    const err = await (async () => {
      for await (const _ of readArrowChunks(p)) {
      }
    })().then(
      () => undefined,
      (e: Error) => e,
    );
    t.ok(err, `truncated at ${cut} of ${ipc.length} bytes: rejected`);
    t.equal(err?.name, 'ArrowInputError', `typed error: ${err?.name}: ${err?.message}`);
    oneLine(
      t,
      err?.message ?? '',
      new RegExp(`cut-${cut}\\.arrow: not a readable Arrow IPC file`),
      `Arrow cut at ${cut}`,
    );
    const inspected = await inspectArrow(p).then(
      () => undefined,
      (e: Error) => e,
    );
    t.equal(inspected?.name, 'ArrowInputError', 'inspectArrow: typed error too');
  }
});

t.test('images: JPEG truncated, folder without class folders', async (t) => {
  const root = join(dir, 'xray');
  for (const c of ['NORMAL', 'PNEUMONIA']) mkdirSync(join(root, c), { recursive: true });
  const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
    .jpeg()
    .toBuffer();
  file('xray/NORMAL/a.jpeg', jpeg);
  file('xray/PNEUMONIA/cut.jpeg', jpeg.subarray(0, jpeg.length >> 1));
  const loader = new BatchLoader(listImageFolder(root), { transform: { size: 8, train: false } });
  const err = await loader.load([0, 1]).then(
    () => undefined,
    (e: Error) => e,
  );
  t.equal(err?.name, 'ImageDecodeError');
  oneLine(t, err?.message ?? '', /cut\.jpeg.*--skip-bad-images/, 'JPEG truncated');
  const flat = join(dir, 'flat');
  mkdirSync(flat);
  file('flat/img.jpeg', jpeg);
  let folderErr: Error | undefined;
  try {
    listImageFolder(flat, ['NORMAL', 'PNEUMONIA']);
  } catch (e) {
    folderErr = e as Error;
  }
  t.equal(folderErr?.name, 'ImageFolderError');
  oneLine(
    t,
    folderErr?.message ?? '',
    /has no class folder 'NORMAL', 'PNEUMONIA' \(found: none\)/,
    'no class folders',
  );
});

t.test('end to end: k-means under tsrun on a CSV with a bad line names file and line', async (t) => {
  const p = file('kbad.csv', 'x,y\n1,2\n3,4\n5,oops\n7,8\n');
  const r = await runTsrun(['--nproc-per-node', '2', 'experiments/kmeans/spmd.ts', '--input', p, '--k', '2']);
  tried++;
  t.not(r.code, 0);
  t.match(r.stderr, /root cause:/);
  t.match(r.stderr, /\| CsvParseError: .*kbad\.csv:4: a field is not a number: "5,oops"/);
});

t.teardown(() => t.comment(`measured: ${tried} bad inputs tried`));
