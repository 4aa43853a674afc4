import { compareKeys } from '../state/index.js'
import type { SessionState } from './session-state.js'
import { badArgument, checkKey, checkListArgs, type SetOptions, type Store, type StoreEntry, type StoreListOptions } from './store-api.js'
import { decodeValue, encodeValue, type Storable } from './value-codec.js'

/**
 * The current client's session: a Store whose keys belong to one client, found by a signed
 * cookie that crashless sets when a handler first writes to it. Its writes commit with the
 * request like `store`'s; the whole session expires `session.ttlMs` after its last use.
 */
export interface Session extends Store {
  /** The session's id; undefined until it exists (the first write makes it). */
  readonly id: string | undefined
  /**
   * Deletes the whole session and clears its cookie, once the request commits. A write after it,
   * in the same request, starts a new session with a new id: do that at login.
   */
  destroy(): Promise<void>
}

/**
 * A Session over whichever SessionState `target` returns: the request's own (for `ctx.session`)
 * or the current request's (for `import { session } from 'crashless'`).
 *
 * @example
 * ```ts
 * const session = new BoundSession(() => state.session)
 * await session.set('user', { name: 'ada' })
 * ```
 */
export class BoundSession implements Session {
  constructor(private readonly target: () => SessionState) {}

  get id(): string | undefined {
    return this.target().id ?? undefined
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    checkKey(key)
    const bytes = await this.target().get(key)
    return bytes === undefined ? undefined : (decodeValue(key, bytes) as T)
  }

  async getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    if (!Array.isArray(keys)) throw badArgument('keys must be an array of strings')
    for (const key of keys) checkKey(key)
    const entries = await this.target().entries()
    return keys.map((key) => {
      const bytes = entries.get(key)
      return bytes === undefined ? undefined : (decodeValue(key, bytes) as T)
    })
  }

  async set(key: string, value: Storable, options?: SetOptions): Promise<void> {
    checkKey(key)
    const ttlMs = options?.ttlMs
    if (ttlMs !== undefined && (!Number.isInteger(ttlMs) || ttlMs <= 0)) throw badArgument(`ttlMs must be a positive integer, got ${String(ttlMs)}`)
    await this.target().set(key, encodeValue(key, value), ttlMs)
  }

  async delete(key: string): Promise<void> {
    checkKey(key)
    await this.target().delete(key)
  }


  async list<T = unknown>(prefix = '', options: StoreListOptions = {}): Promise<StoreEntry<T>[]> {
    const limit = checkListArgs(prefix, options)
    const { after } = options
    const entries = await this.target().entries()
    const keys = [...entries.keys()].filter((key) => key.startsWith(prefix) && (after === undefined || compareKeys(key, after) > 0)).sort(compareKeys)
    return keys.slice(0, limit).map((key) => ({ key, value: decodeValue(key, entries.get(key)!) as T }))
  }

  async destroy(): Promise<void> {
    await this.target().destroy()
  }
}
