import * as tf from '@tensorflow/tfjs';
import { channelMeans } from '../../src/ml/channel-ops.js';
import { dense } from '../../src/ml/dense.js';
import type { TrainGroup } from './group.js';
import { type BatchNormState, BN_EPS, BN_MOMENTUM, type ParamSpec } from './model.js';

/**
 * `--sync-bn`: one batch's loss and gradient with batch-norm moments over the whole global batch, as
 * torch's SyncBatchNorm. The moments need collectives in the middle of the forward pass (and the
 * gradient sums through them in the middle of the backward pass), which a single tfjs tape cannot
 * await; so the network is run as three taped segments split at the two batch norms, and each batch
 * norm is done here between them:
 *
 *   conv1 | bn1 | relu·pool·conv2·relu·conv3 | bn2 | relu·dense·loss
 *
 * Forward, per batch norm: allReduce(Σx, count) → global mean; allReduce(Σ(x−mean)²) → global biased
 * variance (two passes, as the one-process op). Backward: allReduce(Σdŷ, Σdŷ·x̂) → the global sums in
 * dx = γ/σ · (dŷ − Σdŷ/M − x̂·Σdŷx̂/M), M = global values per channel. Losses are per-image sums on every
 * rank, so all ranks' dŷ share one scale; the returned gradient is divided by the local image count so
 * that train.ts's count-weighted allReduce gives the global batch's mean-loss gradient. γ and β keep
 * their local sums (that allReduce adds them up). Every rank must call compute() the same number of
 * times per step with the same `chunks` (a rank with fewer images runs empty micro-batches).
 */

interface BnSide {
  xhat: tf.Tensor4D;
  invStd: Float64Array;
}

interface Normalised {
  /** undefined on a rank without images in this micro-batch */
  side: BnSide | undefined;
  /** values per channel over all ranks (M) */
  total: number;
}

function sumScaled(means: Float32Array, count: number): Float64Array {
  return Float64Array.from(means, (v) => v * count);
}

export class SyncBnGradientComputer {
  readonly grads: Float32Array;
  private readonly at: Record<string, ParamSpec>;

  constructor(
    specs: ParamSpec[],
    private readonly params: Float32Array,
    private readonly imageSize: number,
    private readonly group: TrainGroup,
  ) {
    this.grads = new Float32Array(params.length);
    this.at = Object.fromEntries(specs.map((s) => [s.name, s]));
  }

  private view(name: string): Float32Array {
    const s = this.at[name];
    return this.params.subarray(s.offset, s.offset + s.size);
  }

  private tensor(name: string): tf.Tensor {
    return tf.tensor(this.view(name), this.at[name].shape);
  }

  private addGrad(name: string, d: ArrayLike<number>): void {
    const s = this.at[name];
    for (let j = 0; j < s.size; j++) this.grads[s.offset + j] += d[j];
  }

  /**
   * Normalises x (a conv output without its bias) with moments over all ranks, updates the running
   * statistics from them (bias included, unbiased variance over the global count) and returns x̂ and
   * 1/σ. `x` is undefined on a rank with no images in this micro-batch.
   */
  private async normalise(
    x: tf.Tensor4D | undefined,
    ch: number,
    bias: Float32Array,
    runMean: Float32Array,
    runVar: Float32Array,
  ): Promise<Normalised> {
    const count = x ? x.shape[0] * x.shape[1] * x.shape[2] : 0;
    const s1 = new Float64Array(ch + 1);
    if (x) s1.set(sumScaled(channelMeans(x, x.shape[0], x.shape[1], x.shape[2], ch), count));
    s1[ch] = count;
    await this.group.allReduce(s1, 'sum');
    const total = s1[ch];
    const mean = Float32Array.from(s1.subarray(0, ch), (v) => v / total);
    const s2 = new Float64Array(ch);
    let cen: tf.Tensor4D | undefined;
    if (x) {
      cen = tf.sub(x, tf.tensor1d(mean)) as tf.Tensor4D;
      const sq = tf.square(cen);
      s2.set(sumScaled(channelMeans(sq, x.shape[0], x.shape[1], x.shape[2], ch), count));
      sq.dispose();
    }
    await this.group.allReduce(s2, 'sum');
    const invStd = new Float64Array(ch);
    const unbias = total > 1 ? total / (total - 1) : 1;
    for (let c = 0; c < ch; c++) {
      const variance = s2[c] / total;
      invStd[c] = 1 / Math.sqrt(variance + BN_EPS);
      runMean[c] = (1 - BN_MOMENTUM) * runMean[c] + BN_MOMENTUM * (mean[c] + bias[c]);
      runVar[c] = (1 - BN_MOMENTUM) * runVar[c] + BN_MOMENTUM * variance * unbias;
    }
    if (!cen) return { side: undefined, total };
    const xhat = tf.tidy(() => tf.mul(cen, tf.tensor1d(Float32Array.from(invStd))) as tf.Tensor4D);
    cen.dispose();
    return { side: { xhat, invStd }, total };
  }

  /** γ·x̂ + β: the batch norm's output (before ReLU), the input of the next taped segment. */
  private scaleShift(side: BnSide, layer: 1 | 2): tf.Tensor4D {
    return tf.tidy(
      () =>
        tf.add(
          tf.mul(side.xhat, this.tensor(`bn${layer}.weight`)),
          this.tensor(`bn${layer}.bias`),
        ) as tf.Tensor4D,
    );
  }

  /**
   * Batch norm backward with the global sums: from dŷ (gradient at the batch norm's output) to dx; adds
   * the local γ and β gradients. All ranks call it, with undefined on a rank without images.
   */
  private async backward(
    dy: tf.Tensor4D | undefined,
    side: BnSide | undefined,
    ch: number,
    layer: 1 | 2,
    total: number,
  ): Promise<tf.Tensor4D | undefined> {
    const sums = new Float64Array(2 * ch);
    if (dy && side) {
      const [n, h, w] = dy.shape;
      const count = n * h * w;
      sums.set(sumScaled(channelMeans(dy, n, h, w, ch), count), 0);
      const gx = tf.mul(dy, side.xhat);
      sums.set(sumScaled(channelMeans(gx, n, h, w, ch), count), ch);
      gx.dispose();
      this.addGrad(`bn${layer}.bias`, sums.subarray(0, ch));
      this.addGrad(`bn${layer}.weight`, sums.subarray(ch));
    }
    await this.group.allReduce(sums, 'sum');
    if (!dy || !side) return undefined;
    const gamma = this.view(`bn${layer}.weight`);
    const k = new Float32Array(ch);
    const a = new Float32Array(ch);
    const b = new Float32Array(ch);
    for (let c = 0; c < ch; c++) {
      k[c] = gamma[c] * side.invStd[c];
      a[c] = sums[c] / total;
      b[c] = sums[ch + c] / total;
    }
    return tf.tidy(() => {
      const inner = tf.sub(tf.sub(dy, tf.tensor1d(a)), tf.mul(side.xhat, tf.tensor1d(b)));
      return tf.mul(inner, tf.tensor1d(k)) as tf.Tensor4D;
    });
  }

  /**
   * Fills `grads` for `n` images (NHWC in `images`) split into `chunks` micro-batches, and returns the
   * local mean loss. n may be 0 (the rank still joins every collective).
   */
  async compute(
    images: Float32Array,
    labels: Int32Array,
    n: number,
    bn: BatchNormState,
    chunks: number,
  ): Promise<number> {
    this.grads.fill(0);
    const s = this.imageSize;
    const pixels = s * s * 3;
    let lossSum = 0;
    const per = Math.ceil(n / chunks);
    for (let k = 0; k < chunks; k++) {
      const start = Math.min(n, k * per);
      const m = Math.min(per, n - start);
      lossSum += await this.microBatch(
        images.subarray(start * pixels, (start + m) * pixels),
        labels,
        start,
        m,
        bn,
      );
    }
    if (n > 0) for (let i = 0; i < this.grads.length; i++) this.grads[i] /= n;
    return n > 0 ? lossSum / n : 0;
  }

  private async microBatch(
    pixels: Float32Array,
    labels: Int32Array,
    start: number,
    m: number,
    bn: BatchNormState,
  ): Promise<number> {
    const s = this.imageSize;
    const half = s / 2;
    const held: tf.Tensor[] = [];
    const keep = <T extends tf.Tensor | undefined>(t: T): T => {
      if (t) held.push(t);
      return t;
    };
    try {
      const x = m > 0 ? keep(tf.tensor4d(pixels, [m, s, s, 3])) : undefined;
      const w1 = keep(this.tensor('conv1.weight')) as tf.Tensor4D;
      const c1 = x ? keep(tf.conv2d(x, w1, 1, 'same')) : undefined;
      const bn1 = await this.normalise(c1, 12, this.view('conv1.bias'), bn.mean1, bn.var1);
      const side1 = bn1.side;
      if (side1) keep(side1.xhat);
      const y1 = side1 ? keep(this.scaleShift(side1, 1)) : undefined;
      const w2 = keep(this.tensor('conv2.weight')) as tf.Tensor4D;
      const b2 = keep(this.tensor('conv2.bias')) as tf.Tensor1D;
      const w3 = keep(this.tensor('conv3.weight')) as tf.Tensor4D;
      const seg2 = (y: tf.Tensor, cw2: tf.Tensor, cb2: tf.Tensor, cw3: tf.Tensor) => {
        const a1 = tf.maxPool(tf.relu(y as tf.Tensor4D), 2, 2, 'valid');
        const a2 = tf.relu(tf.add(tf.conv2d(a1, cw2 as tf.Tensor4D, 1, 'same'), cb2)) as tf.Tensor4D;
        return tf.conv2d(a2, cw3 as tf.Tensor4D, 1, 'same');
      };
      const c3 = y1 ? keep(tf.tidy(() => seg2(y1, w2, b2, w3))) : undefined;
      const bn2 = await this.normalise(c3, 32, this.view('conv3.bias'), bn.mean2, bn.var2);
      const side2 = bn2.side;
      if (side2) keep(side2.xhat);
      let loss = 0;
      let dy2: tf.Tensor4D | undefined;
      if (side2) {
        const y2 = keep(this.scaleShift(side2, 2));
        const fw = keep(this.tensor('fc.weight')) as tf.Tensor2D;
        const fb = keep(this.tensor('fc.bias')) as tf.Tensor1D;
        const onehot = keep(tf.oneHot(tf.tensor1d(labels.subarray(start, start + m), 'int32'), 2));
        const seg3 = (y: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
          const flat = tf.reshape(tf.relu(y), [m, 32 * half * half]) as tf.Tensor2D;
          const logits = dense(flat, w as tf.Tensor2D, b as tf.Tensor1D);
          return tf.mul(tf.losses.softmaxCrossEntropy(onehot, logits), m) as tf.Scalar;
        };
        const { value, grads } = tf.valueAndGrads(seg3)([y2, fw, fb]);
        loss = value.dataSync()[0];
        value.dispose();
        this.addGrad('fc.weight', grads[1].dataSync());
        this.addGrad('fc.bias', grads[2].dataSync());
        tf.dispose([grads[1], grads[2]]);
        dy2 = keep(grads[0] as tf.Tensor4D);
      }
      const dc3 = keep(await this.backward(dy2, side2, 32, 2, bn2.total));
      let dy1: tf.Tensor4D | undefined;
      if (dc3 && y1) {
        const g = tf.grads(seg2)([y1, w2, b2, w3], dc3);
        this.addGrad('conv2.weight', g[1].dataSync());
        this.addGrad('conv2.bias', g[2].dataSync());
        this.addGrad('conv3.weight', g[3].dataSync());
        tf.dispose([g[1], g[2], g[3]]);
        dy1 = keep(g[0] as tf.Tensor4D);
      }
      const dc1 = keep(await this.backward(dy1, side1, 12, 1, bn1.total));
      if (dc1 && x) {
        const [dw1] = tf.grads((w: tf.Tensor) => tf.conv2d(x, w as tf.Tensor4D, 1, 'same'))([w1], dc1);
        this.addGrad('conv1.weight', dw1.dataSync());
        dw1.dispose();
      }
      // conv1.bias and conv3.bias: exactly zero, the batch norm cancels them (see batch-norm-relu.ts).
      return loss;
    } finally {
      tf.dispose(held);
    }
  }
}
