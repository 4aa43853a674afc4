import type { Logger } from 'pino'
import type { StateBackend, StoredEntry } from '../state/index.js'
import type { ImmunityEntry, ImmunityTable, TableChange } from './immunity-table.js'
import { decodeImmunity, encodeImmunity } from './stored-entry.js'

/** Keys of immunity entries in a store of their own: the file is crashless's, the Redis prefix too. */
const PREFIX = 'immunity:'
/** Changes made within this window are written together, off the request path. */
const FLUSH_DELAY_MS = 100
/** Verdicts go at once (next turn): other nodes learn them only once they are stored. */
const VERDICT_DELAY_MS = 0
const VERDICTS: ReadonlySet<TableChange> = new Set(['quarantine', 'cure', 'uncure', 'release'])
/** After a failed write, wait this long before trying again (a full disk should not spin). */
const RETRY_DELAY_MS = 1_000
const PAGE = 1_000

/**
 * Keeps an immunity table in a state backend, so a restarted crashless still refuses the
 * poison it learned before. Changes are never written on the request path: they mark the
 * signature dirty and a timer writes every dirty entry after {@link FLUSH_DELAY_MS}, each
 * with the TTL left on it, so the store forgets what the table would have forgotten.
 * The price: a `kill -9` loses at most the last 100 ms of failures counted. Verdicts
 * (quarantine, cure, release) are written on the next turn of the event loop instead, since in a
 * cluster the other nodes are told of a verdict once it is stored (see VerdictBroadcast).
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
  /** Signatures of the write under way: no longer dirty, not stored yet. */
  private writing: ReadonlySet<string> = new Set()
  private readonly written: ((signatures: readonly string[]) => void)[] = []
  private readonly closers: (() => Promise<void>)[] = []
  /** Signatures changed while a resync reads the store: what it read of them may be older. */
  private changedDuringResync: Set<string> | null = null
  private timer: NodeJS.Timeout | null = null
  private timerDue = Infinity
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
    table.onChange((signature, change) => store.mark(signature, change))
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

  /**
   * Makes the table what the store says, after this node may have missed what others told (its
   * connection to a shared store was lost): entries stored are adopted, and verdicts this table
   * holds that the store no longer has were released elsewhere meanwhile (or expired there), so
   * they are forgotten. What this node changed and has not written yet is kept: it is newer.
   */
  async resync(): Promise<{ adopted: number; released: number }> {
    const seen = new Set<string>()
    const changed = new Set<string>()
    this.changedDuringResync = changed
    let adopted: number
    try {
      adopted = await this.read((entry) => {
        seen.add(entry.signature)
        this.table.adopt(entry)
      })
    } finally {
      this.changedDuringResync = null
    }
    let released = 0
    for (const entry of this.table.list()) {
      const signature = entry.signature
      if (seen.has(signature) || this.dirty.has(signature) || this.writing.has(signature) || changed.has(signature)) continue
      if (this.table.applyRelease(signature)) released++
    }
    this.log.info({ event: 'immunity-resynced', entries: adopted, released }, `immunity table re-read from its store (${adopted} entries, ${released} released elsewhere)`)
    return { adopted, released }
  }

  /** Calls `listener` with the signatures of each batch of changes once the store has them. */
  onWritten(listener: (signatures: readonly string[]) => void): void {
    this.written.push(listener)
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
    this.timerDue = Infinity
    // One write at a time: a later flush must not overtake an earlier one for the same key.
    while (this.flushing) await this.flushing
    if (this.dirty.size === 0) return
    this.flushing = this.write().finally(() => (this.flushing = null))
    await this.flushing
  }

  /** Runs `closer` when the store closes, after the last write (e.g. the verdict channel). */
  closeWith(closer: () => Promise<void>): void {
    this.closers.push(closer)
  }

  /** Writes what is pending, then closes what was attached and the backend. */
  async close(): Promise<void> {
    if (this.closed) return
    // Nothing changes the table once the runtime is stopping; a retry timer must not outlive this.
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.flush()
    for (const closer of this.closers) await closer().catch(() => {})
    await this.backend.close()
  }

  private mark(signature: string, change: TableChange): void {
    if (this.closed) return
    this.dirty.add(signature)
    this.changedDuringResync?.add(signature)
    this.schedule(VERDICTS.has(change) ? VERDICT_DELAY_MS : FLUSH_DELAY_MS)
  }

  /** Writes in `delayMs`, or sooner if a write is already due sooner. */
  private schedule(delayMs: number): void {
    if (this.closed) return
    const due = performance.now() + delayMs
    if (this.timer) {
      if (this.timerDue <= due) return
      clearTimeout(this.timer)
    }
    this.timerDue = due
    this.timer = setTimeout(() => {
      this.timer = null
      this.timerDue = Infinity
      void this.flush()
    }, delayMs)
    this.timer.unref()
  }

  private async write(): Promise<void> {
    const signatures = [...this.dirty]
    this.dirty.clear()
    this.writing = new Set(signatures)
    const now = Date.now()
    // One commit per key, all asked for in one turn: backends group them into one transaction,
    // and a key a backend refuses fails alone.
    const results = await Promise.allSettled(
      signatures.map((signature) => {
        const entry = this.table.get(signature)
        const ttlMs = entry ? expiresAt(entry, this.table) - now : 0
        const value = entry && ttlMs > 0 ? Buffer.from(JSON.stringify(encodeImmunity(entry))) : null
        return this.backend.commit([], [{ key: PREFIX + signature, value, ttlMs: value ? ttlMs : undefined }])
      }),
    )
    this.writing = new Set()
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ signature: signatures[i]!, reason: r.reason as Error }] : []))
    const stored = failed.length === 0 ? signatures : signatures.filter((_, i) => results[i]!.status === 'fulfilled')
    if (stored.length > 0) for (const listener of this.written) listener(stored)
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

/** A stored entry, or null when it is not one this version understands (it is then ignored). */
function decode(stored: StoredEntry): ImmunityEntry | null {
  try {
    return decodeImmunity(stored.key.slice(PREFIX.length), JSON.parse(Buffer.from(stored.value).toString('utf8')))
  } catch {
    return null
  }
}
