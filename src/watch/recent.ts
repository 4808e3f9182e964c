/** The newest N whole results of a watch (`--keep N`): a ring, so memory stays flat however long it runs. */
export class RecentResults<T> {
  private readonly items: T[] = [];
  private next = 0;
  readonly capacity: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`keep must be a whole number ≥ 0, got ${capacity}`);
    this.capacity = capacity;
  }

  push(item: T): void {
    if (this.capacity === 0) return;
    if (this.items.length < this.capacity) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  list(): T[] {
    return this.items.length < this.capacity ? [...this.items] : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }

  get size(): number {
    return this.items.length;
  }
}
