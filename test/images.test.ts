import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { BatchLoader, listImageFolder } from '../src/data/images.js';
import { ImageDecodeError, ImageFolderError } from '../src/data/images-errors.js';
import { IMAGENET_MEAN, IMAGENET_STD, transformInto } from '../src/data/transforms.js';

const dir = mkdtempSync(join(tmpdir(), 'tsrun-images-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function gray(path: string, w: number, h: number, level: number): Promise<void> {
  await sharp({ create: { width: w, height: h, channels: 3, background: { r: level, g: level, b: level } } })
    .grayscale()
    .jpeg({ quality: 95 })
    .toFile(path);
}

t.test(
  'test transform: resize to S×S, gray becomes 3 equal-source channels, ImageNet normalisation',
  async (t) => {
    const p = join(dir, 'flat.jpeg');
    await gray(p, 50, 30, 128);
    const s = 8;
    const out = new Float32Array(2 * s * s * 3).fill(Number.NaN);
    await transformInto(p, { size: s, train: false }, 0, out, s * s * 3);
    t.ok(Number.isNaN(out[0]), 'nothing written before offset');
    for (let c = 0; c < 3; c++) {
      const expect = (128 / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
      t.ok(Math.abs(out[s * s * 3 + c] - expect) < 0.03, `channel ${c}: ${out[s * s * 3 + c]} ≈ ${expect}`);
    }
    t.ok(
      out.subarray(s * s * 3).every((v) => Number.isFinite(v)),
      'whole S·S·3 window written',
    );
  },
);

t.test('train transform: rotation leaves black corners inside the crop, centre unchanged', async (t) => {
  const p = join(dir, 'white.png');
  await sharp({ create: { width: 64, height: 64, channels: 3, background: '#ffffff' } })
    .png()
    .toFile(p);
  const s = 32;
  const out = new Float32Array(s * s * 3);
  await transformInto(p, { size: s, train: true }, 20, out, 0);
  const black0 = -IMAGENET_MEAN[0] / IMAGENET_STD[0];
  const white0 = (1 - IMAGENET_MEAN[0]) / IMAGENET_STD[0];
  const centre = ((s / 2) * s + s / 2) * 3;
  t.ok(Math.abs(out[centre] - white0) < 0.05, 'centre stays white');
  t.ok(out[0] < white0 - 0.5, `corner darkened by the rotation (${out[0]}, black is ${black0})`);
  const unrotated = new Float32Array(s * s * 3);
  await transformInto(p, { size: s, train: true }, 0, unrotated, 0);
  t.ok(Math.abs(unrotated[0] - white0) < 0.05, 'no rotation: corner white');
});

t.test('image folder: classes sorted, labels by class, non-images ignored', async (t) => {
  const root = join(dir, 'set');
  for (const c of ['PNEUMONIA', 'NORMAL']) mkdirSync(join(root, c), { recursive: true });
  await gray(join(root, 'NORMAL', 'a.jpeg'), 20, 20, 10);
  await gray(join(root, 'PNEUMONIA', 'b.jpeg'), 20, 20, 200);
  await gray(join(root, 'PNEUMONIA', 'c.jpg'), 20, 20, 200);
  writeFileSync(join(root, 'PNEUMONIA', '.DS_Store'), 'x');
  writeFileSync(join(root, 'PNEUMONIA', 'notes.txt'), 'x');
  const f = listImageFolder(root, ['NORMAL', 'PNEUMONIA']);
  t.same(f.classes, ['NORMAL', 'PNEUMONIA']);
  t.equal(f.files.length, 3);
  t.same(Array.from(f.labels), [0, 1, 1]);
  const loader = new BatchLoader(f, { transform: { size: 4, train: false } });
  const b = await loader.load([2, 0]);
  t.equal(b.count, 2);
  t.same(Array.from(b.labels), [1, 0]);
  t.ok(b.images[0] > b.images[4 * 4 * 3], 'bright image first, dark second');
});

t.test('a missing class folder is named in the error', async (t) => {
  const root = join(dir, 'half');
  mkdirSync(join(root, 'NORMAL'), { recursive: true });
  t.throws(() => listImageFolder(root, ['NORMAL', 'PNEUMONIA']), {
    name: 'ImageFolderError',
    message: /no class folder 'PNEUMONIA'/,
  });
  t.throws(() => listImageFolder(join(dir, 'nope')), ImageFolderError);
});

t.test('a corrupt JPEG names the file; --skip-bad-images counts and skips it', async (t) => {
  const root = join(dir, 'bad');
  for (const c of ['NORMAL', 'PNEUMONIA']) mkdirSync(join(root, c), { recursive: true });
  await gray(join(root, 'NORMAL', 'good.jpeg'), 40, 40, 90);
  const whole = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
    .jpeg()
    .toBuffer();
  const badPath = join(root, 'PNEUMONIA', 'broken.jpeg');
  writeFileSync(badPath, whole.subarray(0, Math.floor(whole.length / 2)));
  const f = listImageFolder(root);
  const strict = new BatchLoader(f, { transform: { size: 8, train: false } });
  await t.rejects(strict.load([0, 1]), ImageDecodeError);
  await t.rejects(strict.load([1]), { message: /broken\.jpeg.*--skip-bad-images/ });
  const lenient = new BatchLoader(f, { transform: { size: 8, train: false }, skipBadImages: true });
  const b = await lenient.load([1, 0]);
  t.equal(b.count, 1);
  t.same(b.skipped, [badPath]);
  t.same(Array.from(b.labels.subarray(0, 1)), [0], 'good image compacted to the front');
});
