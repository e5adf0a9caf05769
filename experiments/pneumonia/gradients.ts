import * as tf from '@tensorflow/tfjs';
import { type BatchNormState, forward, type ParamSpec } from './model.js';

/**
 * One batch's loss and gradient into a flat buffer laid out like the parameters. A batch is run as
 * micro-batches (the wasm heap cannot hold a 64×224×224 batch's activations); each micro-batch's mean
 * loss gradient is weighted by its share of the batch, so the sum equals the full batch's mean-loss
 * gradient (batch-norm moments are then per micro-batch, as with a smaller per-device batch in torch).
 */
export class GradientComputer {
  readonly grads: Float32Array;

  constructor(
    private readonly specs: ParamSpec[],
    private readonly params: Float32Array,
    private readonly imageSize: number,
    private readonly microBatch: number,
  ) {
    this.grads = new Float32Array(params.length);
  }

  private paramTensors(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const s of this.specs)
      out[s.name] = tf.tensor(this.params.subarray(s.offset, s.offset + s.size), s.shape);
    return out;
  }

  /**
   * Fills `grads` for `n` images stored NHWC in `images` and returns the batch's mean loss.
   * n = 0 (every image skipped as bad) leaves a zero gradient and loss 0.
   */
  compute(images: Float32Array, labels: Int32Array, n: number, bn: BatchNormState): number {
    this.grads.fill(0);
    if (n === 0) return 0;
    const pixels = this.imageSize * this.imageSize * 3;
    const p = this.paramTensors();
    const names = this.specs.map((s) => s.name);
    let loss = 0;
    try {
      for (let start = 0; start < n; start += this.microBatch) {
        const m = Math.min(this.microBatch, n - start);
        const weight = m / n;
        const { value, grads } = tf.tidy(() => {
          const x = tf.tensor4d(images.subarray(start * pixels, (start + m) * pixels), [
            m,
            this.imageSize,
            this.imageSize,
            3,
          ]);
          const y = tf.oneHot(tf.tensor1d(labels.subarray(start, start + m), 'int32'), 2);
          const f = (...ts: tf.Tensor[]) => {
            const named: Record<string, tf.Tensor> = {};
            for (let i = 0; i < names.length; i++) named[names[i]] = ts[i];
            return tf.losses.softmaxCrossEntropy(y, forward(named, x, true, bn)) as tf.Scalar;
          };
          return tf.valueAndGrads(f)(names.map((k) => p[k]));
        });
        loss += weight * value.dataSync()[0];
        for (let i = 0; i < this.specs.length; i++) {
          const s = this.specs[i];
          const d = grads[i].dataSync();
          const g = this.grads;
          const off = s.offset;
          for (let j = 0; j < s.size; j++) g[off + j] += weight * d[j];
        }
        tf.dispose([value, ...grads]);
      }
    } finally {
      tf.dispose(Object.values(p));
    }
    return loss;
  }

  /** Predicted class per image (eval-mode batch norm with the running statistics). */
  predict(images: Float32Array, n: number, bn: BatchNormState, out: Int32Array): void {
    const pixels = this.imageSize * this.imageSize * 3;
    const p = this.paramTensors();
    try {
      for (let start = 0; start < n; start += this.microBatch) {
        const m = Math.min(this.microBatch, n - start);
        const pred = tf.tidy(() => {
          const x = tf.tensor4d(images.subarray(start * pixels, (start + m) * pixels), [
            m,
            this.imageSize,
            this.imageSize,
            3,
          ]);
          return tf.argMax(forward(p, x, false, bn), 1);
        });
        out.set(pred.dataSync() as Int32Array, start);
        pred.dispose();
      }
    } finally {
      tf.dispose(Object.values(p));
    }
  }
}
