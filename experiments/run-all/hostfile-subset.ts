import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseHostfileText } from '../../launcher/hostfile.js';
import { writeFileAtomic } from '../../src/atomic-write.js';
import type { Style } from '../report/result-types.js';
import { GridOptionError } from './errors.js';

/** Host names of an Open MPI hostfile, in file order, each once (the launcher's own parser). */
export function hostfileHosts(text: string, file = 'hostfile'): string[] {
  return parseHostfileText(text, file).map((h) => h.host);
}

/**
 * On a cluster a cell's node count is a number of machines, as in the paper: the first N hosts of the
 * hostfile with one rank each. A pool job also needs its driver, so the first host gets one slot more
 * (rank 0 drives, the N others serve as workers).
 */
export async function writeHostfileSubset(
  hostfile: string,
  nodes: number,
  style: Style,
  dir: string,
): Promise<string> {
  const hosts = hostfileHosts(await readFile(hostfile, 'utf8'), hostfile);
  if (hosts.length < nodes) {
    throw new GridOptionError('ranks', `${nodes} nodes asked but ${hostfile} lists ${hosts.length} hosts`);
  }
  const lines = hosts.slice(0, nodes).map((h, i) => `${h} slots=${style === 'pool' && i === 0 ? 2 : 1}`);
  const file = join(dir, `${nodes}nodes-${style}.hostfile`);
  await writeFileAtomic(
    file,
    `# first ${nodes} hosts of ${hostfile} (written by run-all)\n${lines.join('\n')}\n`,
  );
  return file;
}
