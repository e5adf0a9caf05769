import * as tf from '@tensorflow/tfjs';

/**
 * Identity (tf.clone) on wasm without a copy. tfjs-backend-wasm 4.x copies the whole buffer in JS, and
 * the engine clones every tensor it saves for a gradient (conv inputs, batch-norm activations: 2-4
 * copies of 25-38 MB per micro-batch, measured 2-3 % of a training step plus GC churn). tfjs tensors are
 * immutable, so sharing the buffer with a reference count is safe; it is what the wasm backend's own
 * Reshape and the cpu backend's Identity do.
 */

type Backend = { incRef(dataId: object): void };

function identity({ inputs, backend }: { inputs: { x: tf.TensorInfo }; backend: Backend }): tf.TensorInfo {
  const { x } = inputs;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

let registered = false;

/** Idempotent: replaces the wasm backend's copying Identity kernel. */
export function registerWasmIdentity(): void {
  if (registered) return;
  registered = true;
  if (tf.getKernel('Identity', 'wasm') !== undefined) tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: identity as unknown as tf.KernelFunc,
  });
}
