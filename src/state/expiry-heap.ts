/**
 * A min-heap of (expiresAt, key) so the memory backend's sweep touches only keys that are due,
 * instead of walking the whole map on the dispatcher's thread. Items are never removed when a
 * key is rewritten: the sweep checks each popped item against the live entry and skips stale
 * ones, so the heap holds at most one item per TTL write still in its lifetime.
 *
 * @example
 * ```ts
 * const heap = new ExpiryHeap()
 * heap.push(Date.now() + 50, 'session:1')
 * for (const key of heap.popDue(Date.now())) maybeDelete(key)
 * ```
 */
export class ExpiryHeap {
  private readonly times: number[] = []
  private readonly keys: string[] = []

  get size(): number {
    return this.times.length
  }

  push(expiresAt: number, key: string): void {
    this.times.push(expiresAt)
    this.keys.push(key)
    let i = this.times.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.times[parent]! <= expiresAt) break
      this.move(parent, i)
      i = parent
    }
    this.times[i] = expiresAt
    this.keys[i] = key
  }

  /** Removes and returns the keys of every item due at `now` (expiresAt <= now), earliest first. */
  popDue(now: number): string[] {
    const due: string[] = []
    while (this.times.length > 0 && this.times[0]! <= now) due.push(this.pop())
    return due
  }

  clear(): void {
    this.times.length = 0
    this.keys.length = 0
  }

  private pop(): string {
    const top = this.keys[0]!
    const lastTime = this.times.pop()!
    const lastKey = this.keys.pop()!
    const size = this.times.length
    if (size === 0) return top
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= size) break
      const right = left + 1
      const child = right < size && this.times[right]! < this.times[left]! ? right : left
      if (this.times[child]! >= lastTime) break
      this.move(child, i)
      i = child
    }
    this.times[i] = lastTime
    this.keys[i] = lastKey
    return top
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from]!
    this.keys[to] = this.keys[from]!
  }
}
