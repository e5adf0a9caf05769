import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError } from './errors.js';
import { registerWasmConvForward } from './wasm-conv-forward.js';
import { registerWasmConvGrads } from './wasm-conv-grads.js';
import { registerWasmIdentity } from './wasm-identity.js';

export type BackendChoice = 'auto' | 'tfjs-node' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tfjs-node', 'wasm', 'cpu'];

let wasmPathsSet = false;

/** The .wasm binaries ship next to the backend's node bundle; without this Node tries to fetch them. */
async function setUpWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!wasmPathsSet) {
    const main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(`${dirname(main)}/`);
    wasmPathsSet = true;
  }
  registerWasmConvForward();
  registerWasmConvGrads();
  registerWasmIdentity();
}

async function loadTfjsNode(): Promise<void> {
  // A variable specifier keeps tsc from requiring the optional package at type-check time.
  const name = '@tensorflow/tfjs-node';
  await import(name);
}

async function activate(name: Exclude<BackendChoice, 'auto'>): Promise<void> {
  if (name === 'tfjs-node') {
    await loadTfjsNode();
    if (!(await tf.setBackend('tensorflow'))) throw new Error('setBackend(tensorflow) returned false');
  } else if (name === 'wasm') {
    await setUpWasm();
    if (!(await tf.setBackend('wasm'))) throw new Error('setBackend(wasm) returned false');
  } else if (!(await tf.setBackend('cpu'))) {
    throw new Error('setBackend(cpu) returned false');
  }
  await tf.ready();
  // PROD silences tfjs's "install tfjs-node" banner and skips debug-only checks.
  tf.env().set('PROD', true);
}

/**
 * Picks the tfjs backend: tfjs-node when it loads, else wasm (with tsrun's conv gradient kernels), else
 * the pure-JS cpu backend. Returns the name the rest of the program should print.
 */
export async function selectBackend(choice: BackendChoice = 'auto'): Promise<Exclude<BackendChoice, 'auto'>> {
  if (choice !== 'auto') {
    try {
      await activate(choice);
    } catch (err) {
      throw new BackendUnavailableError(choice, err);
    }
    return choice;
  }
  for (const name of ['tfjs-node', 'wasm', 'cpu'] as const) {
    try {
      await activate(name);
      return name;
    } catch {
      // fall through to the next backend: auto means "best that loads here"
    }
  }
  throw new BackendUnavailableError('auto', 'no backend loaded');
}
