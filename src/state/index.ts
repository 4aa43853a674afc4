/**
 * The state room: transactional stores' backends. Other rooms import from here only.
 *
 * @example
 * ```ts
 * import { createBackend, type StateBackend } from '../state/index.js'
 * const backend: StateBackend = await createBackend({ kind: 'memory' })
 * ```
 */
export type { BackendKind, CommitResult, ListOptions, ReadVersion, StateBackend, StoredEntry, WriteOp } from './backend.js'
export { createBackend, type BackendOptions } from './create-backend.js'
export { MemoryBackend, type MemoryBackendOptions } from './memory-backend.js'
export type { SqliteBackend, SqliteBackendOptions, SqliteStats } from './sqlite-backend.js'
export type { SqliteSynchronous } from './sqlite-schema.js'
export type { RedisBackend, RedisBackendOptions } from './redis-backend.js'
export { compareKeys } from './key-order.js'
export { StateError } from './state-error.js'
export { STORE_NAMESPACE, EXPRESS_SESSION_NAMESPACE, IDEMPOTENCY_NAMESPACE, SESSION_SECRET_KEY, sessionRecordKey } from './key-spaces.js'
export { newSessionId, isSessionId, signSessionId, verifySessionCookie, cookieValues } from './session-cookie.js'
export { loadSessionSecret } from './session-secret.js'
export { idempotencyRecordKey, requestFingerprint, encodeIdempotencyRecord, decodeIdempotencyRecord, MAX_RECORDED_BODY_BYTES, type IdempotencyRecord } from './idempotency-record.js'
export { openRedisChannel, type RedisChannel, type RedisChannelOptions } from './redis-channel.js'
