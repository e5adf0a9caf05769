import * as tf from '@tensorflow/tfjs';
import { type BatchMoments, batchNormRelu, batchNormReluEval } from '../../src/ml/batch-norm-relu.js';
import { biasRelu } from '../../src/ml/bias-relu.js';
import { dense } from '../../src/ml/dense.js';

/**
 * The seed's classify() network, NHWC: conv 3→12 (3×3, pad 1) + batch norm + ReLU + max-pool 2;
 * conv 12→20 + ReLU; conv 20→32 + batch norm + ReLU; flatten; dense 32·(S/2)² → 2 logits.
 * 811,214 parameters at S = 224, like torch. All trainable parameters live in one flat Float32Array (the
 * buffer that is all-reduced and stepped by Adam); batch-norm running statistics are separate buffers.
 */

export interface ParamSpec {
  name: string;
  shape: number[];
  offset: number;
  size: number;
  /** torch's default init bound (kaiming_uniform a=√5 ⇒ 1/√fan_in); undefined = constant init */
  bound?: number;
  fill?: number;
}

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

export function paramSpecs(imageSize: number): ParamSpec[] {
  if (!Number.isInteger(imageSize) || imageSize < 4 || imageSize % 2 !== 0) {
    throw new RangeError(`--image-size must be an even integer ≥ 4, got ${imageSize}`);
  }
  const half = imageSize / 2;
  const raw: Omit<ParamSpec, 'offset' | 'size'>[] = [
    { name: 'conv1.weight', shape: [3, 3, 3, 12], bound: 1 / Math.sqrt(27) },
    { name: 'conv1.bias', shape: [12], bound: 1 / Math.sqrt(27) },
    { name: 'bn1.weight', shape: [12], fill: 1 },
    { name: 'bn1.bias', shape: [12], fill: 0 },
    { name: 'conv2.weight', shape: [3, 3, 12, 20], bound: 1 / Math.sqrt(108) },
    { name: 'conv2.bias', shape: [20], bound: 1 / Math.sqrt(108) },
    { name: 'conv3.weight', shape: [3, 3, 20, 32], bound: 1 / Math.sqrt(180) },
    { name: 'conv3.bias', shape: [32], bound: 1 / Math.sqrt(180) },
    { name: 'bn2.weight', shape: [32], fill: 1 },
    { name: 'bn2.bias', shape: [32], fill: 0 },
    { name: 'fc.weight', shape: [32 * half * half, 2], bound: 1 / Math.sqrt(32 * half * half) },
    { name: 'fc.bias', shape: [2], bound: 1 / Math.sqrt(32 * half * half) },
  ];
  let offset = 0;
  return raw.map((r) => {
    const size = r.shape.reduce((a, b) => a * b, 1);
    const spec = { ...r, offset, size };
    offset += size;
    return spec;
  });
}

export function paramCount(imageSize: number): number {
  const specs = paramSpecs(imageSize);
  const last = specs[specs.length - 1];
  return last.offset + last.size;
}

/** Deterministic init from a uniform [0,1) source (rank 0's values are broadcast anyway). */
export function initParams(specs: ParamSpec[], random: () => number): Float32Array {
  const last = specs[specs.length - 1];
  const params = new Float32Array(last.offset + last.size);
  for (const s of specs) {
    for (let i = 0; i < s.size; i++) {
      params[s.offset + i] = s.bound !== undefined ? (random() * 2 - 1) * s.bound : (s.fill ?? 0);
    }
  }
  return params;
}

/** Running mean/var of both batch norms (torch buffers), updated in training mode. */
export class BatchNormState {
  readonly mean1 = new Float32Array(12);
  readonly var1 = new Float32Array(12).fill(1);
  readonly mean2 = new Float32Array(32);
  readonly var2 = new Float32Array(32).fill(1);

  /** All four buffers in one array, for broadcasting rank 0's statistics before evaluation. */
  pack(): Float32Array {
    const out = new Float32Array(88);
    out.set(this.mean1, 0);
    out.set(this.var1, 12);
    out.set(this.mean2, 24);
    out.set(this.var2, 56);
    return out;
  }

  unpack(buf: Float32Array): void {
    this.mean1.set(buf.subarray(0, 12));
    this.var1.set(buf.subarray(12, 24));
    this.mean2.set(buf.subarray(24, 56));
    this.var2.set(buf.subarray(56, 88));
  }
}

type P = Record<string, tf.Tensor>;

function runningUpdate(runMean: Float32Array, runVar: Float32Array) {
  return (m: BatchMoments) => {
    const unbias = m.count > 1 ? m.count / (m.count - 1) : 1;
    for (let c = 0; c < runMean.length; c++) {
      runMean[c] = (1 - BN_MOMENTUM) * runMean[c] + BN_MOMENTUM * m.mean[c];
      runVar[c] = (1 - BN_MOMENTUM) * runVar[c] + BN_MOMENTUM * m.variance[c] * unbias;
    }
  };
}

function bnRelu(
  p: P,
  x: tf.Tensor4D,
  layer: 1 | 2,
  training: boolean,
  bn: BatchNormState,
  pool: boolean,
): tf.Tensor4D {
  const bias = p[layer === 1 ? 'conv1.bias' : 'conv3.bias'] as tf.Tensor1D;
  const gamma = p[`bn${layer}.weight`] as tf.Tensor1D;
  const beta = p[`bn${layer}.bias`] as tf.Tensor1D;
  const runMean = layer === 1 ? bn.mean1 : bn.mean2;
  const runVar = layer === 1 ? bn.var1 : bn.var2;
  if (!training) return batchNormReluEval(x, bias, gamma, beta, runMean, runVar, BN_EPS, pool);
  return batchNormRelu(x, bias, gamma, beta, {
    eps: BN_EPS,
    pool,
    onMoments: runningUpdate(runMean, runVar),
  });
}

/**
 * Forward pass to logits [N, 2]. In training mode batch norm uses the batch's moments and updates the
 * running buffers in `bn`; in eval mode it uses them. The convs before a batch norm run without their
 * bias, which enters the batch-norm op instead (same function, cheaper gradient).
 */
export function forward(p: P, x: tf.Tensor4D, training: boolean, bn: BatchNormState): tf.Tensor2D {
  const n = x.shape[0];
  const c1 = tf.conv2d(x, p['conv1.weight'] as tf.Tensor4D, 1, 'same');
  const a1 = bnRelu(p, c1, 1, training, bn, true);
  const a2 = training
    ? biasRelu(tf.conv2d(a1, p['conv2.weight'] as tf.Tensor4D, 1, 'same'), p['conv2.bias'] as tf.Tensor1D)
    : tf.fused.conv2d({
        x: a1,
        filter: p['conv2.weight'] as tf.Tensor4D,
        strides: 1,
        pad: 'same',
        bias: p['conv2.bias'],
        activation: 'relu',
      });
  const c3 = tf.conv2d(a2, p['conv3.weight'] as tf.Tensor4D, 1, 'same');
  const a3 = bnRelu(p, c3, 2, training, bn, false);
  const flat = tf.reshape(a3, [n, -1]) as tf.Tensor2D;
  return dense(flat, p['fc.weight'] as tf.Tensor2D, p['fc.bias'] as tf.Tensor1D);
}
