import type { Logger } from 'pino'
import type { StateBackend, StoredEntry } from '../state/index.js'
import type { ImmunityEntry, ImmunityTable } from './immunity-table.js'
import { TWEAKS, type Tweak } from './tweaks.js'

/** Keys of immunity entries in a store of their own: the file is crashless's, the Redis prefix too. */
const PREFIX = 'immunity:'
/** Changes made within this window are written together, off the request path. */
const FLUSH_DELAY_MS = 100
/** After a failed write, wait this long before trying again (a full disk should not spin). */
const RETRY_DELAY_MS = 1_000
const PAGE = 1_000

/**
 * Keeps an immunity table in a state backend, so a restarted crashless still refuses the
 * poison it learned before. Changes are never written on the request path: they mark the
 * signature dirty and a timer writes every dirty entry after {@link FLUSH_DELAY_MS}, each
 * with the TTL left on it, so the store forgets what the table would have forgotten.
 * The price: a `kill -9` loses at most the last 100 ms of what was learned.
 *
 * @example
 * ```ts
 * const backend = await createBackend({ kind: 'sqlite', path: '.crashless/immunity.db' })
 * const store = await ImmunityStore.attach(dispatcher.immunity, backend, log)
 * // ... on shutdown:
 * await store.close()
 * ```
 */
export class ImmunityStore {
  private readonly dirty = new Set<string>()
  private timer: NodeJS.Timeout | null = null
  private flushing: Promise<void> | null = null
  private failing = false
  private closed = false

  private constructor(
    private readonly table: ImmunityTable,
    private readonly backend: StateBackend,
    private readonly log: Logger,
  ) {}

  /** Loads every stored entry into `table`, then persists the table's changes from now on. */
  static async attach(table: ImmunityTable, backend: StateBackend, log: Logger): Promise<ImmunityStore> {
    const store = new ImmunityStore(table, backend, log)
    const loaded = await store.read((entry) => table.restore(entry))
    table.onChange((signature) => store.mark(signature))
    log.info({ event: 'immunity-loaded', store: backend.kind, entries: loaded, quarantined: table.list().filter((e) => e.quarantinedUntil > 0).length }, `immunity table loaded (${loaded} entries)`)
    return store
  }

  /**
   * Reads the store again and adopts what other runtimes wrote since this table was loaded: a
   * standby runtime promoted by its keeper learns the quarantines of the one that died.
   */
  async refresh(): Promise<number> {
    const adopted = await this.read((entry) => this.table.adopt(entry))
    this.log.info({ event: 'immunity-refreshed', entries: adopted }, `immunity table refreshed from its store (${adopted} entries)`)
    return adopted
  }

  private async read(take: (entry: ImmunityEntry) => void): Promise<number> {
    let count = 0
    let after: string | undefined
    for (;;) {
      const page: StoredEntry[] = await this.backend.list(PREFIX, { limit: PAGE, after })
      for (const stored of page) {
        const entry = decode(stored)
        if (entry) {
          take(entry)
          count++
        }
      }
      if (page.length < PAGE) return count
      after = page[page.length - 1]!.key
    }
  }

  /** Writes what is pending now (also what changes meanwhile, once). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    // One write at a time: a later flush must not overtake an earlier one for the same key.
    while (this.flushing) await this.flushing
    if (this.dirty.size === 0) return
    this.flushing = this.write().finally(() => (this.flushing = null))
    await this.flushing
  }

  /** Writes what is pending, then closes the backend. */
  async close(): Promise<void> {
    if (this.closed) return
    // Nothing changes the table once the runtime is stopping; a retry timer must not outlive this.
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.flush()
    await this.backend.close()
  }

  private mark(signature: string): void {
    if (this.closed) return
    this.dirty.add(signature)
    this.schedule(FLUSH_DELAY_MS)
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = null
      void this.flush()
    }, delayMs)
    this.timer.unref()
  }

  private async write(): Promise<void> {
    const signatures = [...this.dirty]
    this.dirty.clear()
    const now = Date.now()
    // One commit per key, all asked for in one turn: backends group them into one transaction,
    // and a key a backend refuses fails alone.
    const results = await Promise.allSettled(
      signatures.map((signature) => {
        const entry = this.table.get(signature)
        const ttlMs = entry ? expiresAt(entry, this.table) - now : 0
        const value = entry && ttlMs > 0 ? Buffer.from(JSON.stringify(encode(entry))) : null
        return this.backend.commit([], [{ key: PREFIX + signature, value, ttlMs: value ? ttlMs : undefined }])
      }),
    )
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ signature: signatures[i]!, reason: r.reason as Error }] : []))
    if (failed.length === 0) {
      this.log.debug({ event: 'immunity-persisted', entries: signatures.length }, 'immunity changes written to the store')
      if (this.failing) this.log.info({ event: 'immunity-persist-recovered' }, 'the immunity store accepts writes again')
      this.failing = false
      return
    }
    // Logged once per streak of failures, not once per retry.
    if (!this.failing) {
      this.log.warn({ event: 'immunity-persist-failed', store: this.backend.kind, entries: failed.length, error: failed[0]!.reason.message }, 'cannot persist the immunity table; the in-memory table still protects this process; retrying')
    }
    this.failing = true
    for (const { signature } of failed) this.dirty.add(signature)
    this.schedule(RETRY_DELAY_MS)
  }
}

/** When a table entry stops mattering: the end of its quarantine, or of its failure window. */
function expiresAt(entry: ImmunityEntry, table: ImmunityTable): number {
  return entry.quarantinedUntil > 0 ? entry.quarantinedUntil : Math.max(entry.curedUntil, entry.firstFailureAt + table.windowMs)
}

/** The stored form: versioned, so a later crashless can read what an earlier one wrote. */
interface StoredImmunity {
  v: 1
  failures: number
  lastFailure: string
  firstFailureAt: number
  quarantinedUntil: number
  /** Added after the first release: absent in older entries. */
  cure?: Tweak | null
  curedUntil?: number
  incidentId?: string | null
}

function encode(entry: ImmunityEntry): StoredImmunity {
  return { v: 1, failures: entry.failures, lastFailure: entry.lastFailure, firstFailureAt: entry.firstFailureAt, quarantinedUntil: entry.quarantinedUntil, cure: entry.cure, curedUntil: entry.curedUntil, incidentId: entry.incidentId }
}

/** A stored entry, or null when it is not one this version understands (it is then ignored). */
function decode(stored: StoredEntry): ImmunityEntry | null {
  try {
    const raw = JSON.parse(Buffer.from(stored.value).toString('utf8')) as Partial<StoredImmunity>
    const counts = [raw.failures, raw.firstFailureAt, raw.quarantinedUntil]
    if (raw.v !== 1 || typeof raw.lastFailure !== 'string' || !counts.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0)) return null
    const cure = typeof raw.cure === 'string' && (TWEAKS as readonly string[]).includes(raw.cure) ? raw.cure : null
    const curedUntil = cure && typeof raw.curedUntil === 'number' && Number.isFinite(raw.curedUntil) ? raw.curedUntil : 0
    const incidentId = typeof raw.incidentId === 'string' ? raw.incidentId : null
    return { signature: stored.key.slice(PREFIX.length), failures: raw.failures!, lastFailure: raw.lastFailure, firstFailureAt: raw.firstFailureAt!, quarantinedUntil: raw.quarantinedUntil!, cure, curedUntil, incidentId }
  } catch {
    return null
  }
}
