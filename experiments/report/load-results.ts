import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ResultFormatError } from './errors.js';
import { type CellResult, parseCellResult } from './result-types.js';

export interface LoadedResults {
  results: CellResult[];
  /** Files that could not be read as results; the report lists them instead of failing as a whole. */
  invalid: ResultFormatError[];
}

/** Reads every `*.json` of `dir` (the runner's `results/json/`), sorted by name for a stable report. */
export async function loadResults(dir: string): Promise<LoadedResults> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { results: [], invalid: [] };
    throw err;
  }
  const results: CellResult[] = [];
  const invalid: ResultFormatError[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      let value: unknown;
      try {
        value = JSON.parse(await readFile(file, 'utf8'));
      } catch (err) {
        throw new ResultFormatError(file, `not valid JSON (${(err as Error).message})`);
      }
      results.push(parseCellResult(value, file));
    } catch (err) {
      if (err instanceof ResultFormatError) invalid.push(err);
      else throw err;
    }
  }
  return { results, invalid };
}
