import type { StoredEntry } from '../state/index.js'

/** A key known to be absent (version 0), as a cache entry. */
const ABSENT = null

/** What the cache knows of a key: its committed entry, absent (null), or nothing (undefined). */
export type CachedRead = StoredEntry | null | undefined

/**
 * Committed store entries an instance has read, kept so a later read of the same key needs no
 * round trip to the dispatcher (issue 14.2). A read from here is still recorded with its version
 * and validated at commit like any other, so a stale entry can only cause a re-run, never a lost
 * update. Staleness is bounded by invalidations: after every commit, the dispatcher sends the
 * keys it wrote to every instance before it answers the committing request's client, and
 * messages arrive in order, so a request dispatched after that answer finds the keys gone.
 *
 * A read answered after an invalidation it may have raced with (the answer was already on its way,
 * carrying the old value) must not be kept: reads remember the invalidation count they were sent
 * at, and fill the cache only if no invalidation came in between.
 *
 * Bounded by the bytes of the values kept; the oldest entries go first.
 *
 * @example
 * ```ts
 * const cache = new ReadCache(16 * 1024 * 1024)
 * const epoch = cache.epoch
 * const entries = await remoteRead(keys)
 * cache.fill(keys, entries, epoch)
 * cache.lookup('s:visits', Date.now()) // the entry, null (absent), or undefined (unknown)
 * ```
 */
export class ReadCache {
  private readonly entries = new Map<string, StoredEntry | typeof ABSENT>()
  private bytes = 0
  private invalidations = 0

  constructor(private readonly maxBytes: number) {}

  /** Off when sized 0 (the default for stores other processes write, such as redis). */
  get enabled(): boolean {
    return this.maxBytes > 0
  }

  /** Invalidations seen so far: pass it back to `fill` for the read sent now. */
  get epoch(): number {
    return this.invalidations
  }

  /** Entries kept (for tests and metrics). */
  get size(): number {
    return this.entries.size
  }

  /** The committed entry of `key`, null when it is known absent, undefined when unknown or expired. */
  lookup(key: string, now: number): CachedRead {
    const entry = this.entries.get(key)
    if (entry === undefined || entry === ABSENT) return entry
    if (entry.expiresAt !== null && entry.expiresAt <= now) {
      this.remove(key)
      return undefined
    }
    return entry
  }

  /** Keeps what a `get` of `keys` read, unless an invalidation came after it was sent. */
  fill(keys: readonly string[], found: readonly StoredEntry[], sentAt: number): void {
    if (!this.enabled || sentAt !== this.invalidations) return
    const byKey = new Map(found.map((entry) => [entry.key, entry]))
    for (const key of keys) {
      const entry = byKey.get(key) ?? ABSENT
      const size = sizeOf(key, entry)
      if (size > this.maxBytes / 8) continue
      this.remove(key)
      this.entries.set(key, entry)
      this.bytes += size
    }
    this.evict()
  }

  /** Forgets keys a commit wrote. */
  invalidate(keys: readonly string[]): void {
    this.invalidations++
    for (const key of keys) this.remove(key)
  }

  private remove(key: string): void {
    const entry = this.entries.get(key)
    if (entry === undefined) return
    this.bytes -= sizeOf(key, entry)
    this.entries.delete(key)
  }

  private evict(): void {
    for (const key of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) return
      this.remove(key)
    }
  }
}

/** Roughly what an entry costs: the value's bytes, the key's (two per UTF-16 unit) and some overhead. */
function sizeOf(key: string, entry: StoredEntry | null): number {
  return 64 + key.length * 2 + (entry === null ? 0 : entry.value.byteLength)
}
