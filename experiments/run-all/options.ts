import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { EXPERIMENTS, type ExperimentName, STYLES, type Style } from '../report/result-types.js';
import { GridOptionError } from './errors.js';
import type { GridSpec } from './grid.js';
import { parseSize } from './sizes.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type PeersMode = 'auto' | 'on' | 'off';

export interface RunOptions {
  grid: GridSpec;
  resultsDir: string;
  dataDir: string;
  experimentsDir: string;
  launcher: string;
  hostfile: string | undefined;
  force: boolean;
  k: number;
  epochs: number;
  batch: number;
  lr: number;
  imageSize: number;
  cellTimeoutSec: number;
  peers: PeersMode;
  python: string;
  peersDir: string;
  xray: string | undefined;
  xrayGenArgs: string[];
  report: boolean;
}

/**
 * Two profiles. The default is `npm start`: the whole study on a ~20 MB graph and a short CNN run,
 * sized to finish in under 10 minutes on a 2-core machine. `--quick` is the CI smoke run (~2 minutes):
 * a ~1 MB graph, one tiny CNN epoch, no peers. Any grid flag given explicitly overrides its profile.
 */
const PROFILES = {
  start: {
    sizes: 'test,40mb',
    epochs: 3,
    imageSize: 64,
    cellTimeoutSec: 300,
    peers: 'auto' as PeersMode,
    // ~290 images of ~256 px: a CNN epoch of seconds, with the Kaggle set's class balance.
    xrayGenArgs: '--scale 0.05 --size 256',
  },
  quick: {
    sizes: 'tiny',
    epochs: 1,
    imageSize: 32,
    cellTimeoutSec: 120,
    peers: 'off' as PeersMode,
    xrayGenArgs: '--scale 0.01 --size 96',
  },
};

function list(flag: string, value: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw new GridOptionError(flag, 'needs at least one value (comma-separated)');
  return [...new Set(items)];
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  return list(flag, value).map((v) => {
    if (!allowed.includes(v as T))
      throw new GridOptionError(flag, `"${v}" is not one of ${allowed.join(', ')}`);
    return v as T;
  });
}

function positiveInts(flag: string, value: string): number[] {
  return list(flag, value)
    .map((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new GridOptionError(flag, `"${v}" is not a positive integer`);
      return n;
    })
    .sort((a, b) => a - b);
}

function positive(flag: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new GridOptionError(flag, `must be a positive number, got ${v}`);
  return v;
}

export function parseRunOptions(args: string[]): RunOptions {
  const a = yargs(args)
    .scriptName('run-all')
    .usage(
      "Runs the paper's grid (dataset sizes × node counts × style) and draws its charts.\n\n" +
        '  npm start                                   the study at small scale on this machine\n' +
        '  tsx experiments/run-all.ts --quick          CI smoke run\n' +
        '  tsx experiments/run-all.ts --sizes test,1gb --ranks 1,2,3 --experiments kmeans,pagerank,pneumonia',
    )
    .options({
      quick: {
        type: 'boolean',
        default: false,
        describe: 'CI profile: ~1 MB graph, 1 tiny CNN epoch, no peers',
      },
      sizes: {
        type: 'string',
        describe: 'dataset sizes: tiny, test (~20 MB) or NUMBER{kb,mb,gb} [test; quick: tiny]',
      },
      ranks: { type: 'string', default: '1,2', describe: 'node counts: SPMD ranks / pool workers' },
      experiments: { type: 'string', default: EXPERIMENTS.join(','), describe: 'experiments to run' },
      styles: {
        type: 'string',
        default: STYLES.join(','),
        describe: 'spmd (PyTorch style), pool (Ray style)',
      },
      'kmeans-modes': { type: 'string', default: 'paper,global', describe: 'k-means modes' },
      'pagerank-modes': { type: 'string', default: 'global,paper', describe: 'PageRank modes' },
      hostfile: {
        type: 'string',
        describe: 'run on a cluster: N nodes = the first N hosts of this Open MPI hostfile',
      },
      force: { type: 'boolean', default: false, describe: 'rerun cells that already have a result' },
      results: {
        type: 'string',
        default: 'results',
        describe: 'output directory (json/, res/, logs/, charts/)',
      },
      data: {
        type: 'string',
        default: 'data',
        describe: 'generated inputs; put real data here under the same names',
      },
      xray: {
        type: 'string',
        describe: 'X-ray folder {train,test,val}/{NORMAL,PNEUMONIA} (default: generated)',
      },
      'xray-gen-args': {
        type: 'string',
        describe:
          'flags for experiments/datagen/xray.ts [--scale 0.05 --size 256; quick: --scale 0.01 --size 96]',
      },
      k: { type: 'number', default: 16, describe: 'k-means clusters' },
      epochs: { type: 'number', describe: 'CNN epochs [2; quick: 1]' },
      batch: { type: 'number', default: 64, describe: 'CNN batch size' },
      lr: { type: 'number', default: 0.01, describe: 'CNN learning rate' },
      'image-size': { type: 'number', describe: 'CNN input side in pixels [64; quick: 32; the paper: 224]' },
      'cell-timeout': {
        type: 'number',
        describe: 'seconds before a cell is stopped and marked failed [300; quick: 120]',
      },
      peers: { type: 'string', choices: ['auto', 'on', 'off'], describe: 'Python peers [auto; quick: off]' },
      python: { type: 'string', default: '/usr/bin/python3', describe: 'Python for the peers' },
      'peers-dir': {
        type: 'string',
        default: resolve(REPO_ROOT, 'bench/peers'),
        describe: "the Python peer scripts (the project's own, bench/peers/)",
      },
      report: {
        type: 'boolean',
        default: true,
        describe: 'draw charts and REPORT.md at the end (--no-report)',
      },
      'experiments-dir': {
        type: 'string',
        default: resolve(REPO_ROOT, 'experiments'),
        describe: 'where <experiment>/{spmd,pool}.ts and datagen/ live',
      },
      launcher: {
        type: 'string',
        default: resolve(REPO_ROOT, 'bin/tsrun.js'),
        describe: 'the tsrun launcher',
      },
    })
    // A flag given twice takes its last value (as in most CLIs), so a profile line can be amended.
    .parserConfiguration({ 'duplicate-arguments-array': false })
    // Unknown flags and bad choices become a typed error (exit code 2 in the CLI) instead of yargs
    // exiting the process, so a caller embedding the runner keeps control.
    .fail((msg, err) => {
      throw err ?? new GridOptionError('', `${msg} (see --help)`);
    })
    .strict()
    .help()
    .parseSync();

  const profile = a.quick ? PROFILES.quick : PROFILES.start;
  const grid: GridSpec = {
    experiments: oneOf<ExperimentName>('experiments', a.experiments, EXPERIMENTS),
    sizes: list('sizes', a.sizes ?? profile.sizes).map(parseSize),
    ranks: positiveInts('ranks', a.ranks),
    styles: oneOf<Style>('styles', a.styles, STYLES),
    kmeansModes: oneOf('kmeans-modes', a['kmeans-modes'], ['paper', 'global']),
    pagerankModes: oneOf('pagerank-modes', a['pagerank-modes'], ['global', 'paper']),
  };
  const epochs = a.epochs ?? profile.epochs;
  if (!Number.isInteger(epochs) || epochs < 1)
    throw new GridOptionError('epochs', `must be a positive integer, got ${epochs}`);
  return {
    grid,
    resultsDir: resolve(a.results),
    dataDir: resolve(a.data),
    experimentsDir: resolve(a['experiments-dir']),
    launcher: resolve(a.launcher),
    hostfile: a.hostfile === undefined ? undefined : resolve(a.hostfile),
    force: a.force,
    k: positive('k', a.k),
    epochs,
    batch: positive('batch', a.batch),
    lr: positive('lr', a.lr),
    imageSize: positive('image-size', a['image-size'] ?? profile.imageSize),
    cellTimeoutSec: positive('cell-timeout', a['cell-timeout'] ?? profile.cellTimeoutSec),
    peers: (a.peers as PeersMode | undefined) ?? profile.peers,
    python: a.python,
    peersDir: resolve(a['peers-dir']),
    xray: a.xray === undefined ? undefined : resolve(a.xray),
    xrayGenArgs: (a['xray-gen-args'] ?? profile.xrayGenArgs).split(/\s+/).filter((s) => s.length > 0),
    report: a.report,
  };
}
