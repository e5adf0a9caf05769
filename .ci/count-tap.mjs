// Counts leaf assertions in a TAP 14 stream (a result line with no nested results before it), adds the
// static checks, prints "N passed, N failed" and exits 1 when anything failed or nothing ran.
import { readFileSync } from 'node:fs';

const [file, staticPass = '0', staticFail = '0'] = process.argv.slice(2);
const lines = readFileSync(file, 'utf8').split('\n');
let passed = Number(staticPass);
let failed = Number(staticFail);
let ran = 0;
const childSeenAtDepth = new Map();
for (const line of lines) {
  const m = /^( *)(not ok|ok) \d+/.exec(line);
  if (!m) continue;
  const depth = m[1].length / 4;
  const hadChildren = childSeenAtDepth.get(depth + 1) === true;
  childSeenAtDepth.set(depth + 1, false);
  childSeenAtDepth.set(depth, true);
  if (hadChildren) continue;
  ran += 1;
  const todoOrSkip = /# (SKIP|TODO)/i.test(line);
  if (m[2] === 'ok' || todoOrSkip) passed += 1;
  else failed += 1;
}
if (ran === 0) failed += 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
