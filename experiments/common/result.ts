/**
 * The tail every experiment run ends with, on rank 0 or the pool's driver: one JSON object to `--out`
 * (atomically, so a dashboard or the report runner never reads half a file), then the paper's text
 * lines on stdout (docs/ARCHITECTURE.md "Experiments").
 */
import { writeFileAtomic } from '../../src/atomic-write.js';

/** Who ran: the fields every result JSON opens with, in this order. */
export interface RunIdentity {
  experiment: 'kmeans' | 'pagerank' | 'pneumonia';
  style: 'spmd' | 'pool';
  /** The run's `--mode`; left out of the JSON for an experiment with one mode. */
  mode?: string;
  /** Ranks (SPMD) or pool workers. */
  ranks: number;
}

/** Writes the run's identity followed by `fields`, in their order, to `out` when given; then prints `paperText`. */
export async function finishRun(
  out: string | undefined,
  run: RunIdentity,
  fields: object,
  paperText: string[],
): Promise<void> {
  const result = {
    experiment: run.experiment,
    style: run.style,
    mode: run.mode,
    ranks: run.ranks,
    ...fields,
  };
  // JSON.stringify leaves out a mode that is undefined.
  if (out !== undefined) await writeFileAtomic(out, `${JSON.stringify(result, null, 1)}\n`);
  process.stdout.write(`${paperText.join('\n')}\n`);
}
