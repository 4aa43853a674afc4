import { CrashlessError } from '../errors.js'
import type { TransactionPayload } from '../protocol.js'
import { compareKeys, type StoredEntry } from '../state/index.js'
import type { StoreClient } from './store-client.js'

/** What the request saw of a key the first time it read it: version 0 means absent. */
interface ReadSlot {
  value: Uint8Array | null
  version: number
  /** Of the store's clock; null: no expiry (or absent). */
  expiresAt: number | null
}

interface BufferedWrite {
  value: Uint8Array | null
  ttlMs: number | undefined
}

/**
 * One request's transaction over the stores, inside its instance. Reads go to the dispatcher
 * (or the instance's read cache, see read-cache.ts) and the version of every key read is recorded; writes are only buffered here, so a request
 * that fails, crashes or loses its instance has changed nothing. When the response is sent, the
 * transaction is sealed and travels with it (see `seal`); the dispatcher commits it before the
 * client sees the response, re-running the request if what it read has changed.
 *
 * Keys are full store keys (namespace included); values are encoded bytes (see value-codec.ts).
 * A request sees committed data as of its first read of each key, plus its own writes.
 *
 * @example
 * ```ts
 * const tx = new Transaction(requestId, client)
 * const [count] = await tx.get(['s:count'])
 * tx.set('s:count', encodeValue('count', decodeCount(count) + 1), undefined)
 * const payload = tx.seal() // { reads: [{ key: 's:count', version: 7 }], writes: [...] }
 * ```
 */
export class Transaction {
  private readonly reads = new Map<string, ReadSlot>()
  private readonly writes = new Map<string, BufferedWrite>()
  /**
   * Snapshots the request's reads came from, counted up to 2: reads from two of them may not be
   * one consistent state, so they are validated at commit (see countRead).
   */
  private rounds = 0
  /** The instance's invalidation count at the request's first read (see countRead). */
  private firstEpoch: number | null = null
  private sealed = false

  constructor(
    private readonly id: number,
    private readonly client: StoreClient,
  ) {}

  /** Current values (the request's own writes first), aligned with `keys`; null for absent. */
  async get(keys: readonly string[]): Promise<(Uint8Array | null)[]> {
    const missing = [...new Set(keys.filter((key) => !this.writes.has(key) && !this.reads.has(key)))]
    if (missing.length > 0) {
      const cached = this.client.cached(missing)
      const entries = cached ?? (await this.client.read(this.id, { kind: 'get', keys: missing }))
      this.countRead()
      const found = new Map(entries.map((entry) => [entry.key, entry]))
      for (const key of missing) this.remember(key, found.get(key))
    }
    return keys.map((key) => this.current(key))
  }

  /**
   * Entries whose key starts with `prefix`, in key order, after `after`, at most `limit`:
   * committed ones overlaid with the request's own writes and deletes. Keys listed count as
   * read; keys created by others under the prefix do not conflict (no phantom protection).
   */
  async list(prefix: string, limit: number, after: string | undefined): Promise<{ key: string; value: Uint8Array }[]> {
    if (limit === 0) return []
    const local = new Map<string, Uint8Array>()
    let hidden = 0
    for (const [key, write] of this.writes) {
      if (!key.startsWith(prefix) || (after !== undefined && compareKeys(key, after) <= 0)) continue
      if (write.value === null) hidden++
      else local.set(key, write.value)
    }
    const seen = new Map<string, Uint8Array>()
    let cursor = after
    let boundary: string | null
    for (;;) {
      // Buffered deletes may hide some committed rows: ask for that many more.
      const ask = limit === Infinity ? undefined : limit + hidden
      const page = await this.client.read(this.id, { kind: 'list', prefix, limit: ask, after: cursor })
      this.countRead()
      for (const entry of page) {
        this.remember(entry.key, entry)
        const value = this.current(entry.key)
        if (value !== null) seen.set(entry.key, value)
      }
      if (ask === undefined || page.length < ask) {
        boundary = null
        break
      }
      // A full page: committed keys past its last one are unknown, so local ones there must wait.
      const last = page[page.length - 1]!.key
      boundary = last
      const localUpTo = [...local.keys()].filter((key) => !seen.has(key) && compareKeys(key, last) <= 0).length
      if (seen.size + localUpTo >= limit) break
      cursor = last
    }
    for (const [key, value] of local) if (boundary === null || compareKeys(key, boundary) <= 0) seen.set(key, value)
    const keys = [...seen.keys()].sort(compareKeys).slice(0, limit)
    return keys.map((key) => ({ key, value: seen.get(key)! }))
  }

  /** When the committed value of `key` expires, as first read (null: never); undefined if not read. */
  expiresAt(key: string): number | null | undefined {
    return this.reads.get(key)?.expiresAt
  }

  /** True once the response went: writes are refused from then on. */
  get isSealed(): boolean {
    return this.sealed
  }

  /** Buffers a write; `ttlMs` makes the key expire that long after the commit. */
  set(key: string, value: Uint8Array, ttlMs: number | undefined): void {
    this.checkOpen()
    this.writes.set(key, { value, ttlMs })
  }

  /** Buffers a delete. */
  delete(key: string): void {
    this.checkOpen()
    this.writes.set(key, { value: null, ttlMs: undefined })
  }

  /**
   * Ends the transaction: what to commit, or undefined when there is nothing to commit or check
   * (no writes, and every read came from one snapshot). Later writes throw.
   */
  seal(): TransactionPayload | undefined {
    this.sealed = true
    if (this.writes.size === 0 && this.rounds < 2) return undefined
    return {
      reads: [...this.reads].map(([key, slot]) => ({ key, version: slot.version })),
      writes: [...this.writes].map(([key, write]) => (write.ttlMs === undefined ? { key, value: write.value } : { key, value: write.value, ttlMs: write.ttlMs })),
    }
  }

  /**
   * Counts a read just completed towards the snapshots the request has seen. Without a read
   * cache, each round trip is a snapshot of its own. With one, the dispatcher sends every
   * instance the keys of each commit right after applying it, on the channel its read answers
   * use, and no answer can leave between a commit and that message (the commit and the
   * broadcast run in one turn: see commit.ts and CommitGroup): so what an instance holds and
   * receives is always the committed state as of its last message from the dispatcher. Reads
   * between which no invalidation arrived, cached or not, are therefore one snapshot, and a
   * read-only request that saw none needs no validation at commit (bench:state's three gets
   * per request: no commit message at all). An invalidation in between makes it two.
   */
  private countRead(): void {
    const epoch = this.client.epoch
    if (epoch === null) this.rounds++
    else if (this.rounds === 0) {
      this.firstEpoch = epoch
      this.rounds = 1
    } else if (epoch !== this.firstEpoch) this.rounds = 2
  }

  private current(key: string): Uint8Array | null {
    const write = this.writes.get(key)
    if (write) return write.value
    return this.reads.get(key)?.value ?? null
  }

  /** The first read of a key is the one validated at commit; a later one must not replace it. */
  private remember(key: string, entry: StoredEntry | undefined): void {
    if (this.reads.has(key)) return
    this.reads.set(key, { value: entry?.value ?? null, version: entry?.version ?? 0, expiresAt: entry?.expiresAt ?? null })
  }

  private checkOpen(): void {
    if (this.sealed) {
      throw new CrashlessError('CRASHLESS_ERR_STATE', 'the response (or the head of a streamed response) was already sent: store writes made now could not be committed; write before responding')
    }
  }
}
