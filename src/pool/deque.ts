/** A FIFO with O(1) push, shift and unshift (retries go to the front), no per-operation allocation. */
export class Deque<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(v: T): void {
    this.items.push(v);
  }

  unshift(v: T): void {
    if (this.head > 0) {
      this.head -= 1;
      this.items[this.head] = v;
    } else {
      this.items.unshift(v);
    }
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head];
    this.items[this.head] = undefined;
    this.head += 1;
    // Compact once the dead prefix dominates, so memory follows the live length.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }

  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Removes every element matching pred (used when a driver goes away). */
  removeWhere(pred: (v: T) => boolean): void {
    const kept: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const v = this.items[i] as T;
      if (!pred(v)) kept.push(v);
    }
    this.items = kept;
    this.head = 0;
  }
}
