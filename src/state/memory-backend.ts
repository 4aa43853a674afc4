import type { CommitResult, ListOptions, ReadVersion, StateBackend, StoredEntry, WriteOp } from './backend.js'
import { checkCommit, checkKeys, checkList, staleReads } from './commit-input.js'
import { ExpiryHeap } from './expiry-heap.js'
import { compareKeys } from './key-order.js'
import { StateError } from './state-error.js'

/** Options of the memory backend. */
export interface MemoryBackendOptions {
  /** How often expired keys are dropped (they read as absent at once anyway). Default 1000 ms. */
  sweepIntervalMs?: number
}

interface Slot {
  value: Uint8Array
  version: number
  expiresAt: number | null
}

/**
 * A store held in a Map by the dispatcher's thread: it survives instance reboots (instances are
 * threads; this is not), but not a restart of the runtime. Every call runs synchronously in one
 * piece, so a commit is atomic by construction and durable the moment it returns.
 *
 * Values are copied in and out: a caller reusing its buffer, or scribbling on a value it got,
 * must not change what is committed.
 *
 * @example
 * ```ts
 * const backend = new MemoryBackend()
 * await backend.commit([], [{ key: 'a', value: new Uint8Array([1]), ttlMs: 60_000 }])
 * ```
 */
export class MemoryBackend implements StateBackend {
  readonly kind = 'memory' as const
  private readonly entries = new Map<string, Slot>()
  private readonly expiries = new ExpiryHeap()
  private readonly sweeper: NodeJS.Timeout
  private version = 0
  private closed = false

  constructor(options: MemoryBackendOptions = {}) {
    const interval = options.sweepIntervalMs ?? 1000
    if (!(Number.isFinite(interval) && interval > 0)) throw new StateError(`sweepIntervalMs must be a positive number, got ${String(interval)}`)
    this.sweeper = setInterval(() => this.sweep(Date.now()), interval)
    // A store must never keep the process alive on its own.
    this.sweeper.unref()
  }

  async get(keys: readonly string[]): Promise<StoredEntry[]> {
    this.checkOpen()
    const now = Date.now()
    const found: StoredEntry[] = []
    for (const key of checkKeys(keys)) {
      const slot = this.live(key, now)
      if (slot) found.push(toEntry(key, slot))
    }
    return found
  }

  async list(prefix: string, options?: ListOptions): Promise<StoredEntry[]> {
    this.checkOpen()
    const limit = checkList(prefix, options)
    const after = options?.after
    const now = Date.now()
    // A full scan: listing is rare next to get/commit, and a sorted index would tax every write.
    const keys: string[] = []
    for (const [key, slot] of this.entries) {
      if (!key.startsWith(prefix) || isExpired(slot, now)) continue
      if (after !== undefined && compareKeys(key, after) <= 0) continue
      keys.push(key)
    }
    keys.sort(compareKeys)
    return keys.slice(0, limit).map((key) => toEntry(key, this.entries.get(key)!))
  }

  async commit(reads: readonly ReadVersion[], writes: readonly WriteOp[]): Promise<CommitResult> {
    this.checkOpen()
    const checked = checkCommit(reads, writes)
    const now = Date.now()
    const conflicts = staleReads(reads, (key) => this.live(key, now)?.version ?? 0)
    if (conflicts.length > 0) return { ok: false, conflicts }
    if (checked.length === 0) return { ok: true, version: this.version }
    const version = ++this.version
    for (const write of checked) {
      if (write.value === null) {
        this.entries.delete(write.key)
        continue
      }
      const expiresAt = write.ttlMs === null ? null : now + write.ttlMs
      this.entries.set(write.key, { value: new Uint8Array(write.value), version, expiresAt })
      if (expiresAt !== null) this.expiries.push(expiresAt, write.key)
    }
    return { ok: true, version }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.sweeper)
    this.entries.clear()
    this.expiries.clear()
  }

  /** Drops every key that expired by `now`; returns how many. */
  sweep(now: number): number {
    let dropped = 0
    for (const key of this.expiries.popDue(now)) {
      const slot = this.entries.get(key)
      // The heap item may be stale: the key was rewritten (later or no expiry) or deleted since.
      if (slot && isExpired(slot, now)) {
        this.entries.delete(key)
        dropped++
      }
    }
    return dropped
  }

  private live(key: string, now: number): Slot | undefined {
    const slot = this.entries.get(key)
    if (slot && isExpired(slot, now)) {
      this.entries.delete(key)
      return undefined
    }
    return slot
  }

  private checkOpen(): void {
    if (this.closed) throw new StateError('the memory state backend is closed')
  }
}

function isExpired(slot: Slot, now: number): boolean {
  return slot.expiresAt !== null && slot.expiresAt <= now
}

function toEntry(key: string, slot: Slot): StoredEntry {
  return { key, value: new Uint8Array(slot.value), version: slot.version, expiresAt: slot.expiresAt }
}
