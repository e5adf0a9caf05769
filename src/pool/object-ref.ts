/** ObjectRef: a future naming an object in the cluster. Dropping every copy frees the object. */

const brand = Symbol('tsrun.ObjectRef');

export class ObjectRef<T = unknown> {
  /** Phantom field: carries T for the type checker only. */
  declare readonly __type?: T;
  readonly [brand] = true;
  constructor(readonly id: string) {}
  toString(): string {
    return `ObjectRef(${this.id})`;
  }
}

export function isObjectRef(v: unknown): v is ObjectRef {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[brand] === true;
}
