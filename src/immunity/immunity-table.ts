import type { Tweak } from './tweaks.js'

/** What was learned about one signature. */
export interface ImmunityEntry {
  signature: string
  /** Failures attributed to requests with this signature, in the current window. */
  failures: number
  /** What the last failure was (crash, lease-expired, out-of-memory, exit, ...). */
  lastFailure: string
  firstFailureAt: number
  /** Epoch ms until which requests with this signature are rejected without running; 0 when not quarantined. */
  quarantinedUntil: number
  /** The tweak that cured a request with this signature: the next one runs under it. */
  cure: Tweak | null
  /** Epoch ms until which the cure is applied; 0 when there is none. */
  curedUntil: number
  /** The incident of the verdict that quarantined it, quoted to refused clients. */
  incidentId: string | null
}

export interface ImmunityOptions {
  /** Attributed failures before a signature is quarantined. */
  threshold: number
  /** How long a quarantine lasts, and how long failures are remembered. */
  quarantineMs: number
}

/**
 * The immunity table (Rx): signatures that keep failing are quarantined, so the next request
 * with that signature is answered at once without touching an instance. Bounded in size: the
 * oldest entries are dropped first, so a flood of distinct signatures cannot exhaust memory.
 *
 * @example
 * ```ts
 * const table = new ImmunityTable({ threshold: 2, quarantineMs: 600_000 })
 * table.recordFailure('GET /boom #-', 'crash') // false
 * table.recordFailure('GET /boom #-', 'crash') // true: quarantined
 * table.isQuarantined('GET /boom #-')          // true
 * ```
 */
export class ImmunityTable {
  private readonly entries = new Map<string, ImmunityEntry>()
  private static readonly MAX_ENTRIES = 10_000
  private listener: ((signature: string) => void) | null = null

  constructor(
    private readonly options: ImmunityOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** How many signatures are known; zero means the fast path can skip computing signatures. */
  get size(): number {
    return this.entries.size
  }

  /** How long failures are remembered (and a quarantine lasts), in ms. */
  get windowMs(): number {
    return this.options.quarantineMs
  }

  /**
   * Calls `listener` with the signature of every entry changed, added or dropped from now on
   * (expiry excepted: stores expire entries themselves), so it can be persisted. One listener.
   */
  onChange(listener: (signature: string) => void): void {
    this.listener = listener
  }

  /** The live entry for a signature (quarantined or not), if any. */
  get(signature: string): ImmunityEntry | undefined {
    return this.live(signature, this.now())
  }

  /**
   * Puts back an entry learned before (loaded from a store at start); ignored when it has
   * expired meanwhile or the signature is already known. Does not call the change listener.
   */
  restore(entry: ImmunityEntry): void {
    if (this.entries.has(entry.signature)) return
    this.entries.set(entry.signature, { ...entry })
    if (!this.live(entry.signature, this.now())) return
    this.trim()
  }

  /** Records a failure attributed to a request; returns true when this failure quarantines the signature. */
  recordFailure(signature: string, failure: string): boolean {
    const now = this.now()
    let entry = this.live(signature, now)
    if (!entry) {
      entry = this.create(signature, failure, now)
    }
    entry.failures++
    entry.lastFailure = failure
    if (entry.quarantinedUntil === 0 && entry.failures >= this.options.threshold) {
      entry.quarantinedUntil = now + this.options.quarantineMs
      this.listener?.(signature)
      return true
    }
    this.listener?.(signature)
    return false
  }

  /**
   * Quarantines a signature at once: the recovery ladder found no environment that cures it.
   * `failures` is how many times it failed on the way.
   */
  quarantine(signature: string, failure: string, failures: number, incidentId: string): ImmunityEntry {
    const now = this.now()
    const entry = this.live(signature, now) ?? this.create(signature, failure, now)
    entry.failures = Math.max(entry.failures, failures)
    entry.lastFailure = failure
    entry.quarantinedUntil = now + this.options.quarantineMs
    entry.cure = null
    entry.curedUntil = 0
    entry.incidentId = incidentId
    this.listener?.(signature)
    return entry
  }

  /** Remembers the tweak that cured a request with this signature, for the next ones. */
  recordCure(signature: string, tweak: Tweak, failure: string): void {
    const now = this.now()
    const entry = this.live(signature, now) ?? this.create(signature, failure, now)
    entry.cure = tweak
    entry.curedUntil = now + this.options.quarantineMs
    this.listener?.(signature)
  }

  /** Forgets a cure that stopped working (a request failed under it). */
  dropCure(signature: string): void {
    const entry = this.live(signature, this.now())
    if (!entry || entry.cure === null) return
    entry.cure = null
    entry.curedUntil = 0
    this.listener?.(signature)
  }

  /** The tweak to run a request with this signature under, or null. */
  cureOf(signature: string): Tweak | null {
    return this.live(signature, this.now())?.cure ?? null
  }

  isQuarantined(signature: string): ImmunityEntry | null {
    const entry = this.live(signature, this.now())
    return entry && entry.quarantinedUntil > 0 ? entry : null
  }

  /** Every live entry, quarantined ones first. */
  list(): ImmunityEntry[] {
    const now = this.now()
    return [...this.entries.values()].filter((e) => this.live(e.signature, now)).sort((a, b) => b.quarantinedUntil - a.quarantinedUntil)
  }

  /** Lifts a quarantine and forgets the failures; false when the signature was unknown. */
  release(signature: string): boolean {
    const known = this.live(signature, this.now()) !== undefined
    this.entries.delete(signature)
    if (known) this.listener?.(signature)
    return known
  }

  private live(signature: string, now: number): ImmunityEntry | undefined {
    const entry = this.entries.get(signature)
    if (!entry) return undefined
    const expired = entry.quarantinedUntil > 0 ? entry.quarantinedUntil <= now : Math.max(entry.curedUntil, entry.firstFailureAt + this.options.quarantineMs) <= now
    if (expired) {
      this.entries.delete(signature)
      return undefined
    }
    return entry
  }

  private create(signature: string, failure: string, now: number): ImmunityEntry {
    const entry: ImmunityEntry = { signature, failures: 0, lastFailure: failure, firstFailureAt: now, quarantinedUntil: 0, cure: null, curedUntil: 0, incidentId: null }
    this.entries.set(signature, entry)
    this.trim()
    return entry
  }

  private trim(): void {
    // Map iteration order is insertion order: the first keys are the oldest.
    while (this.entries.size > ImmunityTable.MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value as string
      this.entries.delete(oldest)
      this.listener?.(oldest)
    }
  }
}
