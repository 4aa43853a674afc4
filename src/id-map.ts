/** Slots at the start; doubled whenever the map is half full (it never shrinks). */
const INITIAL_SLOTS = 64

/**
 * A map from integer ids (request ids, sequence numbers) to values, in an open-addressed array of
 * slots (linear probing, backward-shift deletion). Used for tables that gain and lose an entry
 * per request, on both sides of an instance, instead of a `Map`.
 *
 * Why not a Map: V8 rebuilds a Map's hash table as entries come and go, and each retired table
 * keeps a pointer to its successor (for live iterators). Once one of them reaches the old
 * generation, that chain keeps what every table held at its rebuild (a job, its request and its
 * response) alive through the next scavenges, so it is promoted. Measured with `--trace-gc-nvp`
 * on the dispatcher thread under bench:overhead's trivial route: ~2 kB promoted per request and a
 * mark-compact every few hundred ms with a Map, ~40 B and almost none with this. Ids are
 * (mostly) consecutive, so `id & mask` spreads them evenly without hashing.
 *
 * @example
 * ```ts
 * const jobs = new IdMap<Job>()
 * jobs.set(job.id, job)
 * jobs.get(job.id) === job // true
 * jobs.delete(job.id)
 * ```
 */
export class IdMap<V> {
  private keys: number[] = new Array<number>(INITIAL_SLOTS).fill(0)
  private slots: (V | undefined)[] = new Array<V | undefined>(INITIAL_SLOTS).fill(undefined)
  private mask = INITIAL_SLOTS - 1
  private count = 0

  get size(): number {
    return this.count
  }

  get(id: number): V | undefined {
    const i = this.find(id)
    return i < 0 ? undefined : this.slots[i]
  }

  has(id: number): boolean {
    return this.find(id) >= 0
  }

  /** Adds or replaces the value of `id` (`undefined` values are not supported). */
  set(id: number, value: V): this {
    if ((this.count + 1) * 2 > this.slots.length) this.grow()
    this.place(id, value)
    return this
  }

  /** Removes the value of `id`; false when there is none. */
  delete(id: number): boolean {
    let hole = this.find(id)
    if (hole < 0) return false
    const { keys, slots, mask } = this
    slots[hole] = undefined
    this.count--
    // Backward shift: move up any later entry of the run whose home slot is not between the hole
    // and it, so every lookup still finds its entry before reaching an empty slot.
    for (let i = (hole + 1) & mask; slots[i] !== undefined; i = (i + 1) & mask) {
      const home = keys[i]! & mask
      const stays = hole <= i ? home > hole && home <= i : home > hole || home <= i
      if (stays) continue
      keys[hole] = keys[i]!
      slots[hole] = slots[i]
      slots[i] = undefined
      hole = i
    }
    return true
  }

  /** The ids present, in no particular order (a copy). */
  ids(): number[] {
    const out: number[] = []
    for (let i = 0; i < this.slots.length; i++) if (this.slots[i] !== undefined) out.push(this.keys[i]!)
    return out
  }

  /**
   * The values in ascending id order (the order a Map gives for ids handed out in sequence), as
   * a copy: callers may delete while they iterate.
   */
  *values(): IterableIterator<V> {
    const ids: number[] = []
    for (let i = 0; i < this.slots.length; i++) if (this.slots[i] !== undefined) ids.push(this.keys[i]!)
    const values = ids.sort((a, b) => a - b).map((id) => this.get(id)!)
    for (const value of values) yield value
  }

  private find(id: number): number {
    const { keys, slots, mask } = this
    for (let i = id & mask; slots[i] !== undefined; i = (i + 1) & mask) if (keys[i] === id) return i
    return -1
  }

  private place(id: number, value: V): void {
    const { keys, slots, mask } = this
    let i = id & mask
    while (slots[i] !== undefined && keys[i] !== id) i = (i + 1) & mask
    if (slots[i] === undefined) this.count++
    keys[i] = id
    slots[i] = value
  }

  private grow(): void {
    const { keys, slots } = this
    this.keys = new Array<number>(keys.length * 2).fill(0)
    this.slots = new Array<V | undefined>(slots.length * 2).fill(undefined)
    this.mask = this.slots.length - 1
    this.count = 0
    for (let i = 0; i < slots.length; i++) if (slots[i] !== undefined) this.place(keys[i]!, slots[i]!)
  }
}
