// With --encrypt (TSRUN_ENCRYPT=1) nothing of the payload crosses the wire in clear: two network-namespace
// hosts all-reduce a recognizable text while tcpdump captures their bridge. The same run without
// encryption is the control (the text must be found, else the capture proves nothing). The job secret
// is in neither capture (it travels through SSH stdin).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createNetnsCluster, netnsUnavailable } from './helpers/netns.js';
import { runTsrun } from './helpers/ssh-tsrun.js';

const TCPDUMP = '/usr/bin/tcpdump';
const PROGRAM = new URL('./fixtures/hardening/cleartext.ts', import.meta.url).pathname;
const MARKER = Buffer.from('TSRUN-CLEARTEXT-MARKER-');
const SECRET = '5eC7'.repeat(16);

const why =
  netnsUnavailable() ?? (existsSync(TCPDUMP) ? undefined : `${TCPDUMP} is missing (apt-get install tcpdump)`);
if (why) {
  t.plan(0, `skipped: the capture test needs network namespaces and tcpdump: ${why}`);
} else {
  const cluster = await createNetnsCluster(2);
  t.teardown(cluster.teardown);
  // createNetnsCluster names its bridge after our pid; every packet between the hosts crosses it.
  const bridge = `tsbr${process.pid % 100000}`;
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-hardening-pcap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const startCapture = async (file: string): Promise<ChildProcess> => {
    // A 64 MiB kernel buffer (-B, KiB): with the default 2 MiB, tcpdump dropped most packets of the
    // all-reduce on a loaded 2-core machine (1.9 MB captured of the > 3 MiB sent).
    const p = spawn(TCPDUMP, ['-i', bridge, '-U', '-B', '65536', '-s', '0', '-w', file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      p.stderr!.on('data', (d: Buffer) => {
        if (/listening on/.test(d.toString())) resolve();
      });
      p.once('exit', (code) => reject(new Error(`tcpdump exited with ${code}`)));
    });
    return p;
  };

  for (const encrypt of [false, true]) {
    t.test(`${encrypt ? 'with' : 'without'} --encrypt`, async (t) => {
      const file = join(dir, `${encrypt ? 'enc' : 'plain'}.pcap`);
      const cap = await startCapture(file);
      const r = await runTsrun(
        [
          '--hosts',
          `${cluster.addrs[0]}:1,${cluster.addrs[1]}:1`,
          ...cluster.sshOpts.map((o) => `--ssh-opt=${o}`),
          '-x',
          `TSRUN_ENCRYPT=${encrypt ? 1 : 0}`,
          PROGRAM,
        ],
        { TSRUN_JOB_SECRET: SECRET },
      );
      cap.kill('SIGINT');
      await new Promise((r) => cap.once('exit', r));
      t.equal(r.code, 0, r.stderr);
      t.equal((r.stdout.match(/"ok":true/g) ?? []).length, 2, 'both ranks checked their result');
      const pcap = readFileSync(file);
      let hits = 0;
      for (let at = pcap.indexOf(MARKER); at >= 0; at = pcap.indexOf(MARKER, at + 1)) hits++;
      t.comment(`captured ${pcap.length} bytes on ${bridge}; marker found ${hits} times`);
      t.ok(pcap.length > 3 << 20, 'the capture holds the all-reduce traffic (> 3 MiB)');
      if (encrypt) t.equal(hits, 0, 'no payload in clear');
      else t.ok(hits > 1000, 'control: without encryption the payload is visible');
      t.notOk(pcap.includes(Buffer.from(SECRET)), 'the job secret is not on the wire');
    });
  }
}
