import { EvictionOrder, type Standing } from './eviction-order.js'
import { firstAfter } from './first-after.js'
import { routeOfSignature } from './signature.js'
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
  /** Most signatures kept, so a flood of distinct ones cannot exhaust memory. Default: 10,000. */
  maxEntries?: number
  /**
   * Most signatures of one route (method and normalised path) kept while not quarantined, so
   * one route's flood of distinct failures cannot push out what was learned about the others.
   * A signature made by a `key` function is its own route. Default: 1,000.
   */
  maxPerRoute?: number
}

/**
 * What happened to an entry, for listeners: a failure counted, a verdict (`quarantine`, `cure`,
 * `uncure`: a cure that stopped working, `release`), or `evict` (pushed out of a full table).
 * Stores persist every change; a cluster broadcasts the verdicts.
 */
export type TableChange = 'failure' | 'quarantine' | 'cure' | 'uncure' | 'release' | 'evict'

const DEFAULT_MAX_ENTRIES = 10_000
const DEFAULT_MAX_PER_ROUTE = 1_000

/**
 * The immunity table (Rx): signatures that keep failing are quarantined, so the next request
 * with that signature is answered at once without touching an instance.
 *
 * Bounded in size (`maxEntries`), so a flood of distinct signatures cannot exhaust memory; but
 * a flood must not buy the eviction of a quarantine either (15,000 distinct crashing requests
 * once evicted the oldest quarantine, and that poison ran again). So a full table forgets what
 * is cheapest to relearn first: expired entries, then failure records, then cures, each oldest
 * first; a quarantine goes only when the table holds nothing else (see {@link EvictionOrder}).
 * And a route keeps at most `maxPerRoute` signatures that are not quarantined: past that, its
 * new failures replace its own oldest ones, not other routes'.
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
  private readonly order = new EvictionOrder()
  private readonly maxEntries: number
  private readonly maxPerRoute: number
  /**
   * No entry expires before this (a lower bound): a full table sweeps for expired entries only
   * once the clock reaches it, so a flood at the cap does not scan the table on every insert.
   */
  private nextExpiry = Infinity
  private readonly listeners: ((signature: string, change: TableChange) => void)[] = []

  constructor(
    private readonly options: ImmunityOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_MAX_ENTRIES)
    this.maxPerRoute = Math.max(1, options.maxPerRoute ?? DEFAULT_MAX_PER_ROUTE)
  }

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
   * (expiry excepted: stores expire entries themselves), and what happened to it, so it can be
   * persisted and, in a cluster, told to the other nodes. Entries taken from elsewhere
   * ({@link restore}, {@link adopt}, {@link applyRelease}) call no listener: they came from there.
   */
  onChange(listener: (signature: string, change: TableChange) => void): void {
    this.listeners.push(listener)
  }

  private tell(signature: string, change: TableChange): void {
    for (const listener of this.listeners) listener(signature, change)
  }

  /** The live entry for a signature (quarantined or not), if any. */
  get(signature: string): ImmunityEntry | undefined {
    return this.live(signature, this.now())
  }

  /**
   * Puts back an entry learned before (loaded from a store at start); ignored when it has
   * expired meanwhile or the signature is already known. Calls the change listener only for
   * entries it pushes out of a full table.
   */
  restore(entry: ImmunityEntry): void {
    const now = this.now()
    if (this.entries.has(entry.signature) || this.expiresAt(entry) <= now) return
    this.settle({ ...entry }, now)
  }

  /**
   * Takes an entry another runtime stored after this table was loaded (under a keeper, the
   * runtime that died or was reloaded learned it while this one stood by): a signature this
   * table does not know is restored; one it knows less about (no quarantine, or a shorter one;
   * no cure) takes the stored verdict. Calls no listener: the entry is in the store already.
   */
  adopt(entry: ImmunityEntry): void {
    const now = this.now()
    const known = this.live(entry.signature, now)
    if (!known) return this.restore(entry)
    if (entry.quarantinedUntil <= known.quarantinedUntil && entry.curedUntil <= known.curedUntil) return
    known.failures = Math.max(known.failures, entry.failures)
    known.lastFailure = entry.lastFailure
    if (entry.quarantinedUntil > known.quarantinedUntil) {
      known.quarantinedUntil = entry.quarantinedUntil
      known.incidentId = entry.incidentId ?? known.incidentId
    }
    if (entry.curedUntil > known.curedUntil) {
      known.cure = entry.cure
      known.curedUntil = entry.curedUntil
    }
    this.settle(known, now)
  }

  /**
   * Records a failure attributed to a request; returns true when this failure quarantines the
   * signature. With `mayQuarantine` false the failure counts towards the threshold but cannot by
   * itself cross it: evidence too weak on its own (a stall on a busy serving instance) that a
   * later, conclusive failure adds to.
   */
  recordFailure(signature: string, failure: string, mayQuarantine = true): boolean {
    const now = this.now()
    const known = this.live(signature, now)
    const entry = known ?? this.blank(signature, failure, now)
    entry.failures++
    entry.lastFailure = failure
    const quarantines = mayQuarantine && entry.quarantinedUntil === 0 && entry.failures >= this.options.threshold
    if (quarantines) entry.quarantinedUntil = now + this.options.quarantineMs
    // A repeated failure changes neither standing nor expiry: it keeps its place in the order.
    if (!known || quarantines) this.settle(entry, now)
    this.tell(signature, quarantines ? 'quarantine' : 'failure')
    return quarantines
  }

  /**
   * Quarantines a signature at once: the recovery ladder found no environment that cures it.
   * `failures` is how many times it failed on the way.
   */
  quarantine(signature: string, failure: string, failures: number, incidentId: string): ImmunityEntry {
    const now = this.now()
    const entry = this.live(signature, now) ?? this.blank(signature, failure, now)
    entry.failures = Math.max(entry.failures, failures)
    entry.lastFailure = failure
    entry.quarantinedUntil = now + this.options.quarantineMs
    entry.cure = null
    entry.curedUntil = 0
    entry.incidentId = incidentId
    this.settle(entry, now)
    this.tell(signature, 'quarantine')
    return entry
  }

  /** Remembers the tweak that cured a request with this signature, for the next ones. */
  recordCure(signature: string, tweak: Tweak, failure: string): void {
    const now = this.now()
    const entry = this.live(signature, now) ?? this.blank(signature, failure, now)
    entry.cure = tweak
    entry.curedUntil = now + this.options.quarantineMs
    this.settle(entry, now)
    this.tell(signature, 'cure')
  }

  /** Forgets a cure that stopped working (a request failed under it). */
  dropCure(signature: string): void {
    const now = this.now()
    const entry = this.live(signature, now)
    if (!entry || entry.cure === null) return
    entry.cure = null
    entry.curedUntil = 0
    this.settle(entry, now)
    this.tell(signature, 'uncure')
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

  /**
   * One page of live entries in signature order: the first `limit` whose signature sorts after
   * `after` (null: from the start), and `next`, the cursor for the following page (null after
   * the last). What `GET /immunity?limit=&after=` serves.
   *
   * @example
   * ```ts
   * const { entries, next } = table.page(null, 100)
   * if (next !== null) table.page(next, 100)
   * ```
   */
  page(after: string | null, limit: number): { entries: ImmunityEntry[]; next: string | null } {
    this.sweep(this.now())
    const keys = firstAfter(this.entries.keys(), after, limit + 1)
    const more = keys.length > limit
    const entries = keys.slice(0, limit).map((key) => this.entries.get(key)!)
    return { entries, next: more ? entries[entries.length - 1]!.signature : null }
  }

  /** How many live entries there are, quarantined and cured, counted without copying any (for `/health` and `/metrics`). */
  summary(): { entries: number; quarantined: number; cured: number } {
    const now = this.now()
    let entries = 0
    let quarantined = 0
    let cured = 0
    for (const entry of this.entries.values()) {
      if (this.expiresAt(entry) <= now) continue
      entries++
      if (entry.quarantinedUntil > 0) quarantined++
      else if (entry.cure !== null && entry.curedUntil > now) cured++
    }
    return { entries, quarantined, cured }
  }

  /** Lifts a quarantine and forgets the failures; false when the signature was unknown. */
  release(signature: string): boolean {
    const known = this.live(signature, this.now()) !== undefined
    this.forget(signature)
    if (known) this.tell(signature, 'release')
    return known
  }

  /**
   * A release decided elsewhere (another node, or found by re-reading the store): forgets the
   * signature like {@link release}, but calls no listener, since the store already forgot it.
   */
  applyRelease(signature: string): boolean {
    const known = this.live(signature, this.now()) !== undefined
    this.forget(signature)
    return known
  }

  private live(signature: string, now: number): ImmunityEntry | undefined {
    const entry = this.entries.get(signature)
    if (!entry) return undefined
    if (this.expiresAt(entry) <= now) {
      this.forget(signature)
      return undefined
    }
    return entry
  }

  /** When an entry stops mattering: the end of its quarantine, else of its cure or failure window. */
  private expiresAt(entry: ImmunityEntry): number {
    return entry.quarantinedUntil > 0 ? entry.quarantinedUntil : Math.max(entry.curedUntil, entry.firstFailureAt + this.options.quarantineMs)
  }

  /** A new entry, not in the table until {@link settle} puts it there with its final standing. */
  private blank(signature: string, failure: string, now: number): ImmunityEntry {
    return { signature, failures: 0, lastFailure: failure, firstFailureAt: now, quarantinedUntil: 0, cure: null, curedUntil: 0, incidentId: null }
  }

  /**
   * Puts a new or changed entry in its place in the eviction order (the youngest of its
   * standing) and, when it is new, makes room for it. Called once its fields are final, so a
   * signature quarantined by its first failure never counts as a failure record on the way.
   */
  private settle(entry: ImmunityEntry, now: number): void {
    const isNew = !this.entries.has(entry.signature)
    if (isNew) this.entries.set(entry.signature, entry)
    // The route comes from the signature string, not from a stored field: entries persisted by
    // ImmunityStore keep their shape, and a restored entry finds its route the same way.
    this.order.place(entry.signature, standingOf(entry), isNew ? routeOfSignature(entry.signature) : undefined)
    this.nextExpiry = Math.min(this.nextExpiry, this.expiresAt(entry))
    if (isNew) this.makeRoom(entry.signature, now)
  }

  /** Enforces the bounds after `signature` joined the table; the listener hears of every entry dropped. */
  private makeRoom(signature: string, now: number): void {
    // Only a signature that is not quarantined can take its route past the bound, and one drop
    // brings it back: the count grew by one.
    const route = this.order.routeOf(signature)!
    if (this.order.unquarantined(route) > this.maxPerRoute) this.drop(this.order.nextOf(route)!)
    if (this.entries.size > this.maxEntries && now >= this.nextExpiry) this.sweep(now)
    while (this.entries.size > this.maxEntries) this.drop(this.order.next()!)
  }

  /**
   * Forgets every expired entry, without telling the listener (stores expire entries
   * themselves), and learns when the next one expires. O(entries), but only when the table is
   * full and something may have expired since the last sweep.
   */
  private sweep(now: number): void {
    let next = Infinity
    // Deleting the current key while iterating a Map is safe: iteration goes on with the next.
    for (const entry of this.entries.values()) {
      const at = this.expiresAt(entry)
      if (at <= now) this.forget(entry.signature)
      else if (at < next) next = at
    }
    this.nextExpiry = next
  }

  private drop(signature: string): void {
    this.forget(signature)
    this.tell(signature, 'evict')
  }

  private forget(signature: string): void {
    this.entries.delete(signature)
    this.order.remove(signature)
  }
}

function standingOf(entry: ImmunityEntry): Standing {
  return entry.quarantinedUntil > 0 ? 'quarantined' : entry.cure !== null ? 'cured' : 'failed'
}
