/**
 * One rank of bench/pneumonia.ts: training steps of the seed's CNN on random 224² images, batch 64,
 * with the real gradient path (micro-batches, all-reduce when under tsrun, Adam). Prints one JSON line
 * from rank 0. usage: npx tsx bench/pneumonia-rank.ts STEPS [IMAGE_SIZE] [MICRO_BATCH]
 */

import { GradientComputer } from '../experiments/pneumonia/gradients.js';
import { soloGroup, type TrainGroup } from '../experiments/pneumonia/group.js';
import { BatchNormState, initParams, paramSpecs } from '../experiments/pneumonia/model.js';
import { seededRandom } from '../src/data/sampler-random.js';
import { Adam } from '../src/ml/adam.js';
import { selectBackend } from '../src/ml/backend.js';

const steps = Number(process.argv[2] ?? 3);
const size = Number(process.argv[3] ?? 224);
const micro = Number(process.argv[4] ?? 16);
const batch = 64;

let group: TrainGroup & { destroy?: () => Promise<void> } = soloGroup;
if (process.env.WORLD_SIZE !== undefined) {
  const name = 'tsrun';
  group = await (
    (await import(name)) as { init(): Promise<TrainGroup & { destroy(): Promise<void> }> }
  ).init();
}
const backend = await selectBackend('auto');
const specs = paramSpecs(size);
const params = initParams(specs, seededRandom(1));
const gc = new GradientComputer(specs, params, size, micro);
const adam = new Adam(params.length, { lr: 0.01 });
const bn = new BatchNormState();
const rnd = seededRandom(2, group.rank);
const images = new Float32Array(batch * size * size * 3);
for (let i = 0; i < images.length; i++) images[i] = rnd() * 2 - 1;
const labels = new Int32Array(batch);
for (let i = 0; i < batch; i++) labels[i] = rnd() < 0.5 ? 0 : 1;
let t0 = 0;
for (let s = 0; s <= steps; s++) {
  if (s === 1) t0 = performance.now(); // step 0 warms up (XNNPACK setup, heap growth)
  gc.compute(images, labels, batch, bn);
  await group.allReduce(gc.grads, 'avg');
  adam.step(params, gc.grads);
}
const sec = (performance.now() - t0) / 1000;
if (group.rank === 0) {
  console.log(
    JSON.stringify({
      peer: 'tsrun',
      exp: 'cnn-train',
      backend,
      ranks: group.size,
      image_size: size,
      batch,
      micro_batch: micro,
      steps,
      images_per_sec: (steps * batch * group.size) / sec,
    }),
  );
}
await group.destroy?.();
