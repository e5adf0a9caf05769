/**
 * Friendster-like undirected edge list in the seed's CSV format (see graph-model.ts for the model).
 *
 *   npx tsx experiments/datagen/graph.ts --size 1gb --out data/edges-1gb.csv
 *   npx tsx experiments/datagen/graph.ts --edges 6e6 --out data/edges-6m.csv --seed 7
 *
 * Output is written to a temp file beside --out and renamed at the end, so a killed run leaves no
 * half file under the final name. Memory: one double per node (~8 bytes per 6 edges).
 */
import { closeSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from '../common/flags.js';
import { runMain } from '../common/run-main.js';
import { generateEdges, makeGraphModel } from './graph-model.js';

/** Edge counts of the paper's files (`1gb` is data_1.csv, 66.8 M edges, ~15 bytes a line). */
export const SIZES: Record<string, number> = {
  test: 650_000,
  '1gb': 66_800_000,
  '2.65gb': 177_000_000,
  '10.5gb': 701_400_000,
};

/** Writes the graph to `out`; returns the number of edges and nodes written. */
export function writeGraph(out: string, edges: number, seed: number): { edges: number; nodes: number } {
  const model = makeGraphModel(edges, seed);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  const buf = Buffer.allocUnsafe(1 << 22);
  let at = buf.write('node1,node2\n', 0, 'latin1');
  let written = 0;
  const touched = new Uint8Array(model.nodes);
  const digits = new Uint8Array(24);
  // Writes a non-negative integer as ASCII without making a string.
  const putInt = (v: number): void => {
    let n = 0;
    do {
      const q = Math.floor(v / 10);
      digits[n++] = 48 + (v - q * 10);
      v = q;
    } while (v > 0);
    while (n > 0) buf[at++] = digits[--n];
  };
  try {
    generateEdges(model, seed, (i, targets, count) => {
      const a = model.id(i);
      touched[i] = 1;
      for (let e = 0; e < count; e++) {
        if (at > buf.length - 64) {
          writeSync(fd, buf, 0, at);
          at = 0;
        }
        putInt(a);
        buf[at++] = 44;
        putInt(model.id(targets[e]));
        buf[at++] = 10;
        touched[targets[e]] = 1;
      }
      written += count;
    });
    writeSync(fd, buf, 0, at);
    closeSync(fd);
    renameSync(tmp, out);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  let nodes = 0;
  for (let i = 0; i < touched.length; i++) nodes += touched[i];
  return { edges: written, nodes };
}

async function main(): Promise<void> {
  const args = yargs(hideBin(process.argv))
    .scriptName('graph.ts')
    .strict()
    .option('edges', { type: 'number', describe: 'number of edges to aim for (duplicates are dropped)' })
    .option('size', {
      type: 'string',
      choices: Object.keys(SIZES),
      describe: 'a paper-sized file instead of --edges',
    })
    .option('out', { type: 'string', demandOption: true, describe: 'output CSV path' })
    .option('seed', { type: 'number', default: 7, describe: 'random seed (same seed, same file)' })
    .help()
    .parseSync();
  const edges = args.size ? SIZES[args.size] : args.edges;
  if (edges === undefined || !Number.isFinite(edges) || edges < 1) {
    throw new UsageError('give --edges N (N >= 1) or --size test|1gb|2.65gb|10.5gb');
  }
  const t0 = performance.now();
  const r = writeGraph(args.out, Math.floor(edges), Math.floor(args.seed));
  const sec = (performance.now() - t0) / 1000;
  process.stderr.write(`${args.out}: ${r.edges} edges, ${r.nodes} nodes, ${sec.toFixed(1)} s\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) runMain(main);
