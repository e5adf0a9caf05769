/**
 * Result output of an experiment: one JSON object to `--out` (atomically, so a dashboard or the report
 * runner never reads half a file) and the paper's text lines on stdout.
 */
import { writeFileAtomic } from '../../src/atomic-write.js';

/** Writes `result` as pretty JSON to `out` when given; returns the JSON text either way. */
export async function writeResult(out: string | undefined, result: object): Promise<string> {
  const text = `${JSON.stringify(result, null, 1)}\n`;
  if (out !== undefined) await writeFileAtomic(out, text);
  return text;
}

/** Prints the paper's text result lines to stdout (one call per result block). */
export function printPaperText(lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}
