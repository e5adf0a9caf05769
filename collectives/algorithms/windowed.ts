/** Runs fn(0..count-1) with at most `depth` calls in flight, in index order. */
export async function runWindowed(
  count: number,
  depth: number,
  fn: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      await fn(index);
    }
  };
  const lanes: Promise<void>[] = [];
  for (let i = 0; i < Math.min(Math.max(1, depth), count); i++) lanes.push(lane());
  await Promise.all(lanes);
}
