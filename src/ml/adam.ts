/**
 * Adam over one flat Float32Array of parameters, as torch.optim.Adam (betas 0.9/0.999, eps 1e-8, no
 * weight decay). Running it in plain JS on the all-reduced gradient buffer makes every rank apply the
 * identical float operations, so parameters stay bitwise equal across ranks without re-broadcasting.
 */
export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class Adam {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;

  constructor(size: number, opts: AdamOptions) {
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  get steps(): number {
    return this.t;
  }

  /** params -= lr · m̂ / (√v̂ + eps), in place. */
  step(params: Float32Array, grads: Float32Array): void {
    if (params.length !== this.m.length || grads.length !== this.m.length) {
      throw new RangeError(
        `Adam expects ${this.m.length} parameters and gradients, got ${params.length}/${grads.length}`,
      );
    }
    this.t++;
    const { beta1, beta2, eps, m } = this;
    // read as this.v (not destructured): Biome's unused-private-member check does not see destructuring
    const v = this.v;
    const bc1 = 1 - beta1 ** this.t;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** this.t);
    const stepSize = this.lr / bc1;
    for (let i = 0; i < params.length; i++) {
      const g = grads[i];
      const mi = beta1 * m[i] + (1 - beta1) * g;
      const vi = beta2 * v[i] + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] -= (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
    }
  }
}
