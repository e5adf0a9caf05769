import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { countsAt, generateXraySet, KAGGLE_COUNTS } from '../experiments/datagen/xray.js';
import { BASE, drawXray } from '../experiments/datagen/xray-model.js';

t.test('class counts follow Kaggle at scale 1 and scale down with at least one image each', async (t) => {
  t.same(countsAt(1), KAGGLE_COUNTS);
  const c = countsAt(1 / 1000);
  t.same(c.val, { NORMAL: 1, PNEUMONIA: 1 });
  t.same(c.train, { NORMAL: 1, PNEUMONIA: 4 });
});

t.test('layout, JPEG files of varied sizes, deterministic by seed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-xray-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const n = await generateXraySet({ out: join(dir, 'a'), scale: 0.004, size: 64, seed: 3 });
  await generateXraySet({ out: join(dir, 'b'), scale: 0.004, size: 64, seed: 3 });
  t.equal(n, 5 + 16 + 1 + 2 + 1 + 1);
  for (const split of ['train', 'test', 'val']) {
    t.same(readdirSync(join(dir, 'a', split)).sort(), ['NORMAL', 'PNEUMONIA'], `${split} has both classes`);
  }
  const files = readdirSync(join(dir, 'a', 'train', 'PNEUMONIA'));
  t.ok(
    files.every((f) => /^person\d+_(bacteria|virus)_\d+\.jpeg$/.test(f)),
    'Kaggle-like names',
  );
  const sizes = new Set<string>();
  for (const f of files) {
    const a = await sharp(join(dir, 'a', 'train', 'PNEUMONIA', f))
      .raw()
      .toBuffer({ resolveWithObject: true });
    const b = await sharp(join(dir, 'b', 'train', 'PNEUMONIA', f))
      .raw()
      .toBuffer();
    const meta = await sharp(join(dir, 'a', 'train', 'PNEUMONIA', f)).metadata();
    t.ok(meta.format === 'jpeg' && meta.channels === 1, 'grayscale JPEG');
    t.ok(a.data.equals(b), `${f} identical for the same seed`);
    sizes.add(`${a.info.width}x${a.info.height}`);
  }
  t.ok(sizes.size > 3, `sizes vary (${[...sizes].join(' ')})`);
});

t.test('mean brightness alone does not separate the classes', async (t) => {
  const work = new Float32Array(BASE * BASE);
  const means: { m: number; label: 0 | 1 }[] = [];
  for (let i = 0; i < 200; i++) {
    for (const label of [0, 1] as const) {
      const p = drawXray(11, label, i, work).pixels;
      let s = 0;
      for (const v of p) s += v;
      means.push({ m: s / p.length, label });
    }
  }
  // Best single threshold on the mean, either direction.
  means.sort((a, b) => a.m - b.m);
  let best = 0;
  let below1 = 0;
  for (let k = 0; k <= means.length; k++) {
    const below0 = k - below1;
    const acc = Math.max(below0 + (200 - below1), below1 + (200 - below0)) / 400;
    best = Math.max(best, acc);
    if (k < means.length && means[k].label === 1) below1++;
  }
  t.ok(best < 0.65, `best brightness threshold accuracy ${best.toFixed(3)} < 0.65`);
});
