/**
 * Where a pneumonia training step spends its time: tf.profile's kernel times summed by kernel name over
 * one micro-batch forward+backward (after a warm-up), plus wall time of the phases of a full batch-64
 * step (gradient, Adam). Prints which .wasm binary the backend loaded.
 * usage: npx tsx bench/pneumonia-profile.ts [IMAGE_SIZE=224] [MICRO_BATCH=16]
 */
import * as tf from '@tensorflow/tfjs';
import { GradientComputer } from '../experiments/pneumonia/gradients.js';
import { BatchNormState, initParams, paramSpecs } from '../experiments/pneumonia/model.js';
import { seededRandom } from '../src/data/sampler-random.js';
import { Adam } from '../src/ml/adam.js';
import { selectBackend } from '../src/ml/backend.js';

const size = Number(process.argv[2] ?? 224);
const micro = Number(process.argv[3] ?? 16);
const batch = 64;
const backend = await selectBackend('auto');
const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
console.log(JSON.stringify({ backend, simd, threads }));
const specs = paramSpecs(size);
const params = initParams(specs, seededRandom(1));
const gc = new GradientComputer(specs, params, size, micro);
const adam = new Adam(params.length, { lr: 0.01 });
const bn = new BatchNormState();
const rnd = seededRandom(2);
const images = new Float32Array(batch * size * size * 3);
for (let i = 0; i < images.length; i++) images[i] = rnd() * 2 - 1;
const labels = new Int32Array(batch);
for (let i = 0; i < batch; i++) labels[i] = rnd() < 0.5 ? 0 : 1;

gc.compute(images, labels, batch, bn); // warm-up
const info = await tf.profile(() => {
  gc.compute(images, labels, micro, bn);
});
const byName = new Map<string, { ms: number; calls: number }>();
let kernelMs = 0;
for (const k of info.kernels) {
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  kernelMs += ms;
  const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
  const e = byName.get(key) ?? { ms: 0, calls: 0 };
  e.ms += ms;
  e.calls++;
  byName.set(key, e);
}
const rows = [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms);
for (const [k, v] of rows.slice(0, 30))
  console.log(`${v.ms.toFixed(1).padStart(8)} ms ${String(v.calls).padStart(3)}x  ${k}`);
const t0 = performance.now();
gc.compute(images, labels, micro, bn);
const oneMicro = performance.now() - t0;
console.log(
  JSON.stringify({
    micro,
    kernelMs: Math.round(kernelMs),
    microStepMs: Math.round(oneMicro),
    nonKernelMs: Math.round(oneMicro - kernelMs),
  }),
);
// CPU time as well as wall time: on a shared machine CPU time is the steadier figure; best of 3 batches.
let best = { gradMs: Infinity, adamMs: 0, cpuMs: Infinity };
for (let r = 0; r < 3; r++) {
  const c1 = process.cpuUsage();
  const t1 = performance.now();
  gc.compute(images, labels, batch, bn);
  const t2 = performance.now();
  adam.step(params, gc.grads);
  const t3 = performance.now();
  const cpu = process.cpuUsage(c1);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  if (cpuMs < best.cpuMs) best = { gradMs: t2 - t1, adamMs: t3 - t2, cpuMs };
}
console.log(
  JSON.stringify({
    batch,
    gradMs: Math.round(best.gradMs),
    adamMs: Math.round(best.adamMs),
    cpuMs: Math.round(best.cpuMs),
    imgPerCpuSec: (batch * 1000) / best.cpuMs,
  }),
);
