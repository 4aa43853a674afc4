import { newSessionId, sessionRecordKey } from '../state/index.js'
import { decodeSessionRecord, encodeSessionRecord, unwrapLive, wrapExpiring } from './session-record.js'
import type { Transaction } from './transaction.js'

/**
 * One request's view of its client's session: which session it is (the id of the cookie the
 * dispatcher verified, or none yet), its keys (the session's record, read on first use), and
 * what the response must do with the cookie.
 *
 * - No session yet: reads find nothing, without a round trip; the first write makes a session
 *   with a new random id, and the response carries its cookie. A request that only reads makes
 *   nothing, so crawlers and health checks leave no sessions behind.
 * - Every write rewrites the record (all keys) with the session's TTL and re-sends the cookie
 *   with a fresh Max-Age: the session lives `ttlMs` after it was last written.
 * - Sliding expiry: a read that finds the record in the second half of its life rewrites it,
 *   so a session in use never expires while one read twice a day costs a write twice a day,
 *   not one per request.
 * - `destroy` deletes the record and clears the cookie; a write after it starts a new session
 *   with a new id (do that at login, so an id planted before it is worth nothing after it).
 *
 * Writes go to the request's transaction, so none of this happens unless the request succeeds.
 *
 * @example
 * ```ts
 * const session = new SessionState(msg.sessionId ?? null, 86_400_000, () => state.transaction)
 * await session.set('user', encodeValue('user', 'ada'))
 * session.cookieChange() // { id: '…new id…' }
 * ```
 */
export class SessionState {
  #id: string | null
  /** The id was made by this request: its client has no cookie for it yet. */
  #created = false
  /** This request destroyed the session its cookie named. */
  #destroyed = false
  /** This request wrote the record. */
  #written = false
  #entries: Map<string, Uint8Array> | null = null
  #loading: Promise<Map<string, Uint8Array>> | null = null

  constructor(
    id: string | null,
    private readonly ttlMs: number,
    private readonly tx: () => Transaction,
  ) {
    this.#id = id
  }

  /** The session's id; null while there is none. */
  get id(): string | null {
    return this.#id
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const stored = (await this.load()).get(key)
    return stored === undefined ? undefined : unwrapLive(stored, Date.now())
  }

  /** Every live key and value, in insertion order. */
  async entries(): Promise<ReadonlyMap<string, Uint8Array>> {
    const now = Date.now()
    const live = new Map<string, Uint8Array>()
    for (const [key, stored] of await this.load()) {
      const value = unwrapLive(stored, now)
      if (value !== undefined) live.set(key, value)
    }
    return live
  }

  /** `ttlMs`: this key expires on its own before the session does (it never outlives it). */
  async set(key: string, value: Uint8Array, ttlMs?: number): Promise<void> {
    const stored = ttlMs === undefined ? value : wrapExpiring(value, Date.now() + ttlMs)
    const next = new Map(await this.load()).set(key, stored)
    const id = this.#id ?? newSessionId()
    this.write(id, next)
    if (this.#id === null) {
      this.#id = id
      this.#created = true
    }
  }

  async delete(key: string): Promise<void> {
    const entries = await this.load()
    if (this.#id === null || !entries.has(key)) return
    const next = new Map(entries)
    next.delete(key)
    this.write(this.#id, next)
  }

  async destroy(): Promise<void> {
    const id = this.#id
    if (id === null) return
    // Also for a session made by this request: its buffered record must not be committed.
    this.tx().delete(sessionRecordKey(id))
    if (!this.#created) this.#destroyed = true
    this.#id = null
    this.#created = false
    this.#written = false
    this.#entries = new Map()
  }

  /** What the response does with the cookie: send `id` (fresh Max-Age), clear it (null), or nothing. */
  cookieChange(): { id: string | null } | undefined {
    if (this.#id !== null && (this.#created || this.#written)) return { id: this.#id }
    if (this.#destroyed) return { id: null }
    return undefined
  }

  private load(): Promise<Map<string, Uint8Array>> {
    if (this.#entries) return Promise.resolve(this.#entries)
    if (this.#id === null) return Promise.resolve((this.#entries = new Map()))
    return (this.#loading ??= this.read(this.#id))
  }

  private async read(id: string): Promise<Map<string, Uint8Array>> {
    const key = sessionRecordKey(id)
    const tx = this.tx()
    const [bytes] = await tx.get([key])
    // Destroyed while the read was in flight: that wins.
    if (this.#entries) return this.#entries
    const entries = bytes ? decodeSessionRecord(bytes) : new Map<string, Uint8Array>()
    // Keys past their own expiry are dropped, so the next write of the record leaves them out.
    const now = Date.now()
    for (const [key, stored] of entries) if (unwrapLive(stored, now) === undefined) entries.delete(key)
    this.#entries = entries
    const expiresAt = tx.expiresAt(key)
    if (bytes && typeof expiresAt === 'number' && expiresAt - Date.now() < this.ttlMs / 2 && !tx.isSealed) this.write(id, entries)
    return entries
  }

  /** Buffers the whole record (throws when the response already went; nothing changes then). */
  private write(id: string, entries: Map<string, Uint8Array>): void {
    this.tx().set(sessionRecordKey(id), encodeSessionRecord(entries), this.ttlMs)
    this.#entries = entries
    this.#written = true
  }
}
