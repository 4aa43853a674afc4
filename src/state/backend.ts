/**
 * The contract every state backend (memory, sqlite, redis) implements, and that one test suite
 * checks against all three. A backend stores committed bytes only; the per-request transaction
 * (buffered writes, read-your-writes, re-running on conflict) lives above it.
 *
 * Rules shared by every backend:
 * - Keys are non-empty, well-formed (no lone surrogates) strings. Key order is Unicode code point
 *   order, which is the byte order of their UTF-8 form (what SQLite and Redis compare).
 * - Versions come from one commit counter per store: every key written by a commit gets that
 *   commit's version, so versions only grow and a value never comes back under an old version.
 * - An expired key is absent everywhere: `get`/`list` omit it and its version reads as 0.
 * - A write without `ttlMs` stores the key without expiry (it clears an earlier TTL).
 * - Deleting an absent key is fine. A commit without writes only validates its reads and changes
 *   nothing; it returns the store's current version.
 * - `list` is not protected against phantoms: a key created under a listed prefix does not
 *   conflict with a commit that listed the prefix, unless that commit also read the key.
 *
 * @example
 * ```ts
 * const backend = await createBackend({ kind: 'sqlite' })
 * const [entry] = await backend.get(['visits'])
 * const next = String(Number(entry ? Buffer.from(entry.value).toString() : '0') + 1)
 * const result = await backend.commit([{ key: 'visits', version: entry?.version ?? 0 }], [{ key: 'visits', value: Buffer.from(next) }])
 * if (!result.ok) console.log('someone else won; re-run', result.conflicts)
 * ```
 */

/** A committed value as stored: bytes (the API layer encodes JSON/binary on top), a version, an expiry. */
export interface StoredEntry {
  key: string
  value: Uint8Array
  version: number
  /** Epoch milliseconds (of the store's clock: the server's, for redis), or null for no expiry. */
  expiresAt: number | null
}

/** What a request read: version 0 means the key was absent (or expired) when read. */
export interface ReadVersion {
  key: string
  version: number
}

/** One buffered write: a value to store (with an optional TTL), or null to delete the key. */
export interface WriteOp {
  key: string
  value: Uint8Array | null
  ttlMs?: number
}

/** The outcome of a commit: the commit's version, or the keys whose read versions were stale. */
export type CommitResult = { ok: true; version: number } | { ok: false; conflicts: string[] }

/** Options of `list`. */
export interface ListOptions {
  /** At most this many entries (default: all). */
  limit?: number
  /** Only keys strictly after this one (the last key of the previous page). */
  after?: string
}

/** Which backend a store is. */
export type BackendKind = 'memory' | 'sqlite' | 'redis'

/** A committed key-value store with optimistic, atomic, durable commits. */
export interface StateBackend {
  readonly kind: BackendKind
  /** Current committed entries for these keys, in the order asked, once each (absent/expired keys are omitted). */
  get(keys: readonly string[]): Promise<StoredEntry[]>
  /** Committed entries whose key starts with prefix, in key order, at most `limit`, after key `after`. */
  list(prefix: string, options?: ListOptions): Promise<StoredEntry[]>
  /**
   * Atomically: if every read version still matches, apply all writes (the later of two writes to
   * one key wins) and resolve only once durable; otherwise apply nothing and name the conflicting
   * keys. Rejects with a `CRASHLESS_ERR_STATE` error on bad input or when the store fails.
   */
  commit(reads: readonly ReadVersion[], writes: readonly WriteOp[]): Promise<CommitResult>
  /** Finishes commits already asked for, then releases the store. Later calls reject. */
  close(): Promise<void>
}
