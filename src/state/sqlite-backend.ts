import type BetterSqlite3 from 'better-sqlite3'
import type { CommitResult, ListOptions, ReadVersion, StateBackend, StoredEntry, WriteOp } from './backend.js'
import { checkCommit, checkKeys, checkList, staleReads, type CheckedWrite } from './commit-input.js'
import { CommitGroup } from './commit-group.js'
import { ABOVE_ALL_KEYS, prefixUpperBound } from './key-order.js'
import { openSqlite, type EntryRow, type SqliteStatements, type SqliteSynchronous } from './sqlite-schema.js'
import { StateError } from './state-error.js'

/** Options of the sqlite backend. */
export interface SqliteBackendOptions {
  /** Database file (its directory is created). Default `.crashless/state.db`. */
  path?: string
  /** Default 'normal': survives kill -9 of the runtime; use 'full' to also survive power loss. */
  synchronous?: SqliteSynchronous
  /** How long a call waits for another process holding the write lock. Default 2000 ms. */
  busyTimeoutMs?: number
  /** How often expired rows are deleted (they read as absent at once anyway). Default 30 s. */
  purgeIntervalMs?: number
}

/** Counters for diagnostics and tests: how many commits shared how many transactions. */
export interface SqliteStats {
  transactions: number
  commits: number
}

interface PendingCommit {
  reads: readonly ReadVersion[]
  writes: CheckedWrite[]
}

const SYNCHRONOUS: readonly SqliteSynchronous[] = ['off', 'normal', 'full', 'extra']
const PURGE_BATCH = 1000

/**
 * The embedded default store: one SQLite file in WAL mode, used from the dispatcher's thread.
 * better-sqlite3 is synchronous, so every call must be short; commits use group commit: those
 * asked for in one event-loop turn are validated and applied in ONE transaction, each against
 * the state including the earlier commits of its group (a conflicting one is rejected alone),
 * and all are resolved after that transaction commits, which is when they are durable.
 *
 * @example
 * ```ts
 * const backend = await SqliteBackend.open(Database, { path: '.crashless/state.db', synchronous: 'full' })
 * ```
 */
export class SqliteBackend implements StateBackend {
  readonly kind = 'sqlite' as const
  readonly path: string
  private readonly stats_: SqliteStats = { transactions: 0, commits: 0 }
  private readonly group: CommitGroup<PendingCommit, CommitResult>
  private readonly purger: NodeJS.Timeout
  private readonly readSnapshot: (keys: readonly string[], now: number) => StoredEntry[]
  private closed = false

  private constructor(private readonly db: BetterSqlite3.Database, private readonly sql: SqliteStatements, path: string, purgeIntervalMs: number) {
    this.path = path
    this.readSnapshot = db.transaction((keys: readonly string[], now: number) => this.read(keys, now))
    const applyGroup = db.transaction((batch: PendingCommit[]) => this.applyGroup(batch))
    this.group = new CommitGroup((batch) => {
      try {
        // IMMEDIATE takes the write lock up front, so the counter read below cannot go stale.
        const results = applyGroup.immediate(batch)
        this.stats_.transactions++
        this.stats_.commits += batch.length
        return results
      } catch (err) {
        throw new StateError(`sqlite commit failed in ${path}: ${(err as Error).message}`, { cause: err })
      }
    })
    this.purger = setInterval(() => this.purge(), purgeIntervalMs)
    this.purger.unref()
  }

  /** Opens the file, given the better-sqlite3 constructor (loaded lazily by createBackend). */
  static open(Database: typeof BetterSqlite3, options: SqliteBackendOptions = {}): SqliteBackend {
    const path = options.path ?? '.crashless/state.db'
    const synchronous = options.synchronous ?? 'normal'
    if (!SYNCHRONOUS.includes(synchronous)) throw new StateError(`synchronous must be one of ${SYNCHRONOUS.join(', ')}, got ${JSON.stringify(synchronous)}`)
    const busyTimeoutMs = options.busyTimeoutMs ?? 2000
    const purgeIntervalMs = options.purgeIntervalMs ?? 30_000
    if (!(purgeIntervalMs > 0)) throw new StateError(`purgeIntervalMs must be positive, got ${String(purgeIntervalMs)}`)
    const { db, statements } = openSqlite(Database, path, synchronous, busyTimeoutMs)
    return new SqliteBackend(db, statements, path, purgeIntervalMs)
  }

  /** A copy of the group-commit counters. */
  stats(): SqliteStats {
    return { ...this.stats_ }
  }

  async get(keys: readonly string[]): Promise<StoredEntry[]> {
    this.checkOpen()
    const unique = checkKeys(keys)
    const now = Date.now()
    // Several keys are read in one transaction: one snapshot, even if another process commits.
    return this.guard('get', () => (unique.length > 1 ? this.readSnapshot(unique, now) : this.read(unique, now)))
  }

  async list(prefix: string, options?: ListOptions): Promise<StoredEntry[]> {
    this.checkOpen()
    const limit = checkList(prefix, options)
    const prefixBytes = Buffer.from(prefix)
    const params = {
      prefix: prefixBytes,
      // Every key is non-empty, so every key is above the empty BLOB.
      after: options?.after === undefined ? Buffer.alloc(0) : Buffer.from(options.after),
      upper: prefixUpperBound(prefixBytes) ?? ABOVE_ALL_KEYS,
      now: Date.now(),
      limit: limit === Infinity ? -1 : limit,
    }
    return this.guard('list', () => this.sql.list.all(params).map(toEntry))
  }

  async commit(reads: readonly ReadVersion[], writes: readonly WriteOp[]): Promise<CommitResult> {
    this.checkOpen()
    return this.group.add({ reads, writes: checkCommit(reads, writes) })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.purger)
    this.group.flush()
    this.db.close()
  }

  /** Deletes up to one batch of expired rows; returns how many. */
  purge(now = Date.now()): number {
    if (this.closed) return 0
    try {
      return this.sql.purge.run(now, PURGE_BATCH).changes
    } catch {
      // Busy or failing: expired rows are invisible anyway, the next run tries again.
      return 0
    }
  }

  /** Runs inside the group's transaction: validate and apply each commit in turn. */
  private applyGroup(batch: PendingCommit[]): CommitResult[] {
    const now = Date.now()
    let version = this.sql.readCounter.get()!
    const current = (key: string): number => this.sql.versionOf.get(Buffer.from(key), now) ?? 0
    const results = batch.map(({ reads, writes }): CommitResult => {
      const conflicts = staleReads(reads, current)
      if (conflicts.length > 0) return { ok: false, conflicts }
      if (writes.length === 0) return { ok: true, version }
      version++
      for (const write of writes) {
        const key = Buffer.from(write.key)
        if (write.value === null) this.sql.remove.run(key)
        else this.sql.upsert.run(key, write.value, version, write.ttlMs === null ? null : now + write.ttlMs)
      }
      return { ok: true, version }
    })
    this.sql.writeCounter.run(version)
    return results
  }

  private read(keys: readonly string[], now: number): StoredEntry[] {
    const found: StoredEntry[] = []
    for (const key of keys) {
      const row = this.sql.getEntry.get(Buffer.from(key), now)
      if (row) found.push(toEntry(row))
    }
    return found
  }

  private guard<T>(what: string, run: () => T): T {
    try {
      return run()
    } catch (err) {
      throw new StateError(`sqlite ${what} failed in ${this.path}: ${(err as Error).message}`, { cause: err })
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StateError(`the sqlite state store ${this.path} is closed`)
  }
}

function toEntry(row: EntryRow): StoredEntry {
  return { key: row.key.toString('utf8'), value: row.value, version: row.version, expiresAt: row.expiresAt }
}
