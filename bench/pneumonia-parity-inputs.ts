/**
 * Writes the inputs of the torch parity check (test/pneumonia-torch-parity.test.ts): a small batch and
 * the seed network's parameters, all from seeded streams, so the test can rebuild them without the file.
 * usage: npx tsx bench/pneumonia-parity-inputs.ts OUT.json   (then bench/peers/cnn_torch_gradcheck.py)
 */
import { writeFileSync } from 'node:fs';
import { parityInputs } from '../experiments/pneumonia/parity-inputs.js';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: npx tsx bench/pneumonia-parity-inputs.ts OUT.json\n');
  process.exit(2);
}
const p = parityInputs();
const params: Record<string, number[]> = {};
for (const s of p.specs) params[s.name] = Array.from(p.params.subarray(s.offset, s.offset + s.size));
writeFileSync(
  out,
  JSON.stringify({ size: p.size, images: Array.from(p.images), labels: Array.from(p.labels), params }),
);
