/**
 * Just enough of the WebAssembly binary format to assemble small SIMD kernels at run time (no compiler,
 * no build step, no download): src/ml/'s training kernels and collectives/simd-kernels.ts's reductions.
 */

export function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128, as i32.const takes it (unsigned LEB would make 64 read as −64). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];
export const name = (s: string) => [...leb(s.length), ...Buffer.from(s)];

export const I32 = 0x7f;
export const V128 = 0x7b;

/** Instructions used by the kernels; memarg alignment hint 2^2 (floats), offsets in bytes. */
export const op = {
  get: (i: number) => [0x20, ...leb(i)],
  set: (i: number) => [0x21, ...leb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  sub: [0x6b],
  tee: (i: number) => [0x22, ...leb(i)],
  loop: [0x03, 0x40],
  v128Zero: [0xfd, 0x0c, ...Array(16).fill(0)],
  end: [0x0b],
  brIf: (depth: number) => [0x0d, ...leb(depth)],
  load: (offset: number) => [0xfd, 0x00, 0x02, ...leb(offset)],
  store: (offset: number) => [0xfd, 0x0b, 0x02, ...leb(offset)],
  splat32: (offset: number) => [0xfd, 0x09, 0x02, ...leb(offset)],
  f32x4Add: [0xfd, ...leb(0xe4)],
  f32x4Mul: [0xfd, ...leb(0xe6)],
};

export interface FunctionDef {
  exportName: string;
  params: number; // all i32
  locals: [count: number, type: number][];
  code: number[];
}

/** A module importing `env.memory` (unshared, any size) and exporting `fns`, all `(i32...) -> ()`. */
export function moduleWithImportedMemory(fns: FunctionDef[]): Uint8Array {
  const arities = [...new Set(fns.map((f) => f.params))];
  const types = arities.flatMap((n) => [0x60, ...leb(n), ...Array(n).fill(I32), 0x00]);
  const bodies = fns.flatMap((f) => {
    const locals = [...leb(f.locals.length), ...f.locals.flatMap(([n, t]) => [...leb(n), t])];
    const body = [...locals, ...f.code, ...op.end];
    return [...leb(body.length), ...body];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [...leb(arities.length), ...types]),
    ...section(2, [0x01, ...name('env'), ...name('memory'), 0x02, 0x00, 0x01]),
    ...section(3, [...leb(fns.length), ...fns.flatMap((f) => leb(arities.indexOf(f.params)))]),
    ...section(7, [...leb(fns.length), ...fns.flatMap((f, i) => [...name(f.exportName), 0x00, ...leb(i)])]),
    ...section(10, [...leb(fns.length), ...bodies]),
  ]);
}
