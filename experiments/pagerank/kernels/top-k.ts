/**
 * The k best (id, score) pairs of parallel arrays: highest score first, ties by smaller id, so the
 * order is the same whatever order the candidates came in (ranks, workers, blocks).
 */

export type Ranked = [id: number, score: number];

function better(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa > sb || (sa === sb && ia < ib);
}

/** Top `k` of ids/scores (one pass with a small sorted buffer; k is small). */
export function topK(ids: Float64Array, scores: Float64Array, k: number): Ranked[] {
  const bestIds = new Float64Array(k);
  const bestScores = new Float64Array(k);
  let n = 0;
  for (let i = 0; i < ids.length; i++) {
    const s = scores[i];
    const id = ids[i];
    if (n === k && !better(s, id, bestScores[k - 1], bestIds[k - 1])) continue;
    let p = n < k ? n++ : k - 1;
    while (p > 0 && better(s, id, bestScores[p - 1], bestIds[p - 1])) {
      bestScores[p] = bestScores[p - 1];
      bestIds[p] = bestIds[p - 1];
      p--;
    }
    bestScores[p] = s;
    bestIds[p] = id;
  }
  const out: Ranked[] = [];
  for (let i = 0; i < n; i++) out.push([bestIds[i], bestScores[i]]);
  return out;
}

/** Merges candidate lists (each any order) into the overall top `k`. */
export function mergeTop(lists: Ranked[][], k: number): Ranked[] {
  const all = lists.flat();
  const ids = Float64Array.from(all, (r) => r[0]);
  const scores = Float64Array.from(all, (r) => r[1]);
  return topK(ids, scores, k);
}
