import { CrashlessError } from '../errors.js'
import type { Transaction } from './transaction.js'
import { decodeValue, encodeValue, type Storable } from './value-codec.js'

/** Options of `set`. */
export interface SetOptions {
  /** The key expires this long after the request commits (reads as absent from then on). */
  ttlMs?: number
}

/** Options of `list`. */
export interface StoreListOptions {
  /** At most this many entries (default: all). */
  limit?: number
  /** Only keys strictly after this one: the last key of the previous page. */
  after?: string
}

/** One entry returned by `list`. */
export interface StoreEntry<T = unknown> {
  key: string
  value: T
}

/**
 * A key-value store bound to the current request's transaction. Values are JSON (anything
 * JSON.stringify keeps) or bytes (a Uint8Array or Buffer, returned as a Uint8Array). Reads see
 * committed data plus this request's own writes; writes become visible to others, all at once,
 * only when the request succeeds (before its client gets the response), and never when it fails.
 *
 * @example
 * ```ts
 * import { store } from 'crashless'
 * const cart = (await store.get<string[]>('cart:42')) ?? []
 * await store.set('cart:42', [...cart, 'sku-7'], { ttlMs: 86_400_000 })
 * const page = await store.list('cart:', { limit: 50 })
 * ```
 */
export interface Store {
  /** The value of `key`, or undefined when absent or expired. */
  get<T = unknown>(key: string): Promise<T | undefined>
  /** The values of several keys in one round trip, aligned with `keys`. */
  getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]>
  /** Buffers a write (committed with the request). */
  set(key: string, value: Storable, options?: SetOptions): Promise<void>
  /** Buffers a delete (committed with the request); deleting an absent key is fine. */
  delete(key: string): Promise<void>
  /** Entries whose key starts with `prefix`, in key order (Unicode code points). */
  list<T = unknown>(prefix?: string, options?: StoreListOptions): Promise<StoreEntry<T>[]>
}

/** Where a Store's calls go: the request's transaction, and the namespace of its keys. */
export type StoreTarget = () => { tx: Transaction; namespace: string }

const LONE_SURROGATE = /\p{Cs}/u

/**
 * The Store over one namespace of the request's transaction. `target` is asked on every call,
 * so the module-level `store` finds whichever request is current.
 */
export class NamespacedStore implements Store {
  constructor(private readonly target: StoreTarget) {}

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const [value] = await this.getMany<T>([key])
    return value
  }

  async getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    if (!Array.isArray(keys)) throw badArgument('keys must be an array of strings')
    for (const key of keys) checkKey(key)
    const { tx, namespace } = this.target()
    const values = await tx.get(keys.map((key) => namespace + key))
    return values.map((bytes, i) => (bytes === null ? undefined : (decodeValue(keys[i]!, bytes) as T)))
  }

  async set(key: string, value: Storable, options?: SetOptions): Promise<void> {
    checkKey(key)
    const ttlMs = options?.ttlMs
    if (ttlMs !== undefined && !(typeof ttlMs === 'number' && ttlMs > 0 && Number.isFinite(ttlMs))) throw badArgument(`ttlMs must be a positive number, got ${String(ttlMs)}`)
    const { tx, namespace } = this.target()
    tx.set(namespace + key, encodeValue(key, value), ttlMs)
  }

  async delete(key: string): Promise<void> {
    checkKey(key)
    const { tx, namespace } = this.target()
    tx.delete(namespace + key)
  }

  async list<T = unknown>(prefix = '', options: StoreListOptions = {}): Promise<StoreEntry<T>[]> {
    const limit = checkListArgs(prefix, options)
    const { tx, namespace } = this.target()
    const entries = await tx.list(namespace + prefix, limit, options.after === undefined ? undefined : namespace + options.after)
    return entries.map(({ key, value }) => {
      const own = key.slice(namespace.length)
      return { key: own, value: decodeValue(own, value) as T }
    })
  }
}

/** Throws CRASHLESS_ERR_STATE unless `key` is a non-empty, well-formed string. */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) throw badArgument(`a key must be a non-empty string, got ${typeof key === 'string' ? '""' : typeof key}`)
  if (LONE_SURROGATE.test(key)) throw badArgument(`the key ${JSON.stringify(key)} contains a lone surrogate`)
}

/** Checks `list`'s arguments; returns the limit (Infinity: all). */
export function checkListArgs(prefix: unknown, options: StoreListOptions): number {
  if (typeof prefix !== 'string' || LONE_SURROGATE.test(prefix)) throw badArgument(`prefix must be a well-formed string, got ${JSON.stringify(prefix)}`)
  const limit = options.limit ?? Infinity
  if (limit !== Infinity && !(Number.isSafeInteger(limit) && limit >= 0)) throw badArgument(`limit must be a non-negative integer, got ${String(limit)}`)
  if (options.after !== undefined) checkKey(options.after)
  return limit
}

/** A misuse of the store API, thrown at the call. */
export function badArgument(message: string): CrashlessError {
  return new CrashlessError('CRASHLESS_ERR_STATE', message)
}
