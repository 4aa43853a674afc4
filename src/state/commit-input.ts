import type { ListOptions, ReadVersion, WriteOp } from './backend.js'
import { StateError } from './state-error.js'

/**
 * Input checks shared by every backend, so that a bad key or TTL is rejected the same way
 * everywhere (with a `CRASHLESS_ERR_STATE` error) before anything reaches the store.
 */

/**
 * A write after checking: one per key (the last one asked for wins), the value as a Buffer view
 * of the caller's bytes (drivers bind Buffers, not plain Uint8Arrays), TTL rounded up to whole ms.
 */
export interface CheckedWrite {
  key: string
  value: Buffer | null
  ttlMs: number | null
}

const LONE_SURROGATE = /\p{Cs}/u

/**
 * Throws a StateError unless `key` is a non-empty, well-formed string (a lone surrogate would be
 * mangled by UTF-8 and could collide with another key).
 *
 * @example
 * ```ts
 * checkKey('session:42') // fine
 * checkKey('\uD800')     // throws CRASHLESS_ERR_STATE
 * ```
 */
export function checkKey(key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) throw new StateError(`${what} must be a non-empty string, got ${JSON.stringify(key)}`)
  if (LONE_SURROGATE.test(key)) throw new StateError(`${what} ${JSON.stringify(key)} contains a lone surrogate`)
}

/** Checks a list of keys and returns them once each, in first-seen order. */
export function checkKeys(keys: readonly string[]): string[] {
  if (!Array.isArray(keys)) throw new StateError('keys must be an array')
  for (const key of keys) checkKey(key)
  return keys.length < 2 ? [...keys] : [...new Set(keys)]
}

/** Checks a list's prefix (which may be empty) and options; returns the limit (Infinity for all). */
export function checkList(prefix: string, options: ListOptions | undefined): number {
  if (typeof prefix !== 'string' || LONE_SURROGATE.test(prefix)) throw new StateError(`prefix must be a well-formed string, got ${JSON.stringify(prefix)}`)
  if (options?.after !== undefined) checkKey(options.after, 'after')
  const limit = options?.limit ?? Infinity
  if (limit !== Infinity && !(Number.isSafeInteger(limit) && limit >= 0)) throw new StateError(`limit must be a non-negative integer, got ${String(limit)}`)
  return limit
}

/**
 * Checks a commit's reads and writes and folds repeated writes of one key into the last one.
 *
 * @example
 * ```ts
 * const writes = checkCommit([{ key: 'a', version: 0 }], [{ key: 'a', value: bytes, ttlMs: 50 }])
 * ```
 */
export function checkCommit(reads: readonly ReadVersion[], writes: readonly WriteOp[]): CheckedWrite[] {
  if (!Array.isArray(reads) || !Array.isArray(writes)) throw new StateError('commit needs arrays of reads and writes')
  for (const read of reads) {
    checkKey(read?.key, 'read key')
    if (!Number.isSafeInteger(read.version) || read.version < 0) throw new StateError(`read version of ${JSON.stringify(read.key)} must be a non-negative integer, got ${String(read.version)}`)
  }
  const byKey = new Map<string, CheckedWrite>()
  for (const write of writes) {
    checkKey(write?.key, 'write key')
    if (write.value !== null && !(write.value instanceof Uint8Array)) throw new StateError(`value of ${JSON.stringify(write.key)} must be a Uint8Array or null`)
    let ttlMs: number | null = null
    if (write.value !== null && write.ttlMs !== undefined) {
      if (!(typeof write.ttlMs === 'number' && write.ttlMs > 0 && Number.isFinite(write.ttlMs))) throw new StateError(`ttlMs of ${JSON.stringify(write.key)} must be a positive number, got ${String(write.ttlMs)}`)
      ttlMs = Math.ceil(write.ttlMs)
    }
    byKey.delete(write.key)
    const value = write.value === null ? null : Buffer.from(write.value.buffer, write.value.byteOffset, write.value.byteLength)
    byKey.set(write.key, { key: write.key, value, ttlMs })
  }
  return [...byKey.values()]
}

/** The keys whose read version differs from `current` (0 for absent), once each. */
export function staleReads(reads: readonly ReadVersion[], current: (key: string) => number): string[] {
  const conflicts = new Set<string>()
  for (const read of reads) if (current(read.key) !== read.version) conflicts.add(read.key)
  return [...conflicts]
}
