// Task functions of bench/tasks.ts.
export function noop(x: number): number {
  return x;
}

export function firstOf(x: Float64Array): number {
  return x[0];
}

export function filled(bytes: number): Float64Array {
  return new Float64Array(bytes / 8).fill(1);
}
