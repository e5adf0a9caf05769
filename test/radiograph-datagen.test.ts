import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { generateRadiographSet } from '../experiments/datagen/radiograph.js';
import { drawRadiograph } from '../experiments/datagen/radiograph-model.js';

t.test('balanced layout, grayscale JPEGs of independent sides, deterministic by seed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-radiograph-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const opts = { train: 4, test: 2, val: 1, minSide: 40, maxSide: 90, seed: 2 };
  t.equal(await generateRadiographSet({ out: join(dir, 'a'), ...opts }), 14);
  await generateRadiographSet({ out: join(dir, 'b'), ...opts });
  const shapes = new Set<string>();
  for (const split of ['train', 'test', 'val']) {
    for (const cls of ['NORMAL', 'PNEUMONIA']) {
      const files = readdirSync(join(dir, 'a', split, cls));
      t.equal(files.length, split === 'train' ? 4 : split === 'test' ? 2 : 1, `${split}/${cls} count`);
      for (const f of files) {
        const meta = await sharp(join(dir, 'a', split, cls, f)).metadata();
        t.ok(meta.format === 'jpeg' && meta.channels === 1, `${f} grayscale JPEG`);
        t.ok(meta.width! >= 40 && meta.width! <= 90 && meta.height! >= 40 && meta.height! <= 90);
        shapes.add(
          meta.width! > meta.height! ? 'landscape' : meta.width! < meta.height! ? 'portrait' : 'square',
        );
        const a = await sharp(join(dir, 'a', split, cls, f))
          .raw()
          .toBuffer();
        const b = await sharp(join(dir, 'b', split, cls, f))
          .raw()
          .toBuffer();
        t.ok(a.equals(b), `${f} identical for the same seed`);
      }
    }
  }
  t.ok(shapes.has('landscape') && shapes.has('portrait'), `aspect ratios vary (${[...shapes]})`);
});

t.test(
  'pneumonia pictures differ from normal ones inside the lungs, not in overall brightness',
  async (t) => {
    const means = [0, 0];
    for (let i = 0; i < 40; i++) {
      for (const label of [0, 1] as const) {
        const p = drawRadiograph(5, label, i, 64, 80).pixels;
        let s = 0;
        for (const v of p) s += v;
        means[label] += s / p.length / 40;
      }
    }
    t.ok(Math.abs(means[0] - means[1]) < 8, `class mean brightness ${means.map((m) => m.toFixed(1))}`);
  },
);
