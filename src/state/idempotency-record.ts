import { createHash } from 'node:crypto'
import { IDEMPOTENCY_NAMESPACE } from './key-spaces.js'
import { StateError } from './state-error.js'

/**
 * What crashless keeps of a committed request that carried an idempotency key: which request it
 * was (a fingerprint, to refuse the key's reuse for another one) and the response its client was
 * given, so that a retry gets that response instead of running the request again.
 */
export interface IdempotencyRecord {
  /** sha256 of method, target and body: see `requestFingerprint`. */
  fingerprint: string
  status: number
  statusMessage: string | undefined
  headers: Record<string, string | string[]>
  /** The body, or null when it was not kept (streamed, or above the size limit). */
  body: Uint8Array | null
  /** When it committed (epoch ms). */
  committedAt: number
}

/** Bodies above this are not kept (the retry is told so instead of getting them). */
export const MAX_RECORDED_BODY_BYTES = 1024 * 1024

/**
 * The store key of the record for `key`, scoped by `scope` (who sent it: the request's
 * Authorization header and session, or ''), so that two clients picking the same key do not see
 * each other's responses. Hashed:
 * client keys can be long, and need not be valid store keys.
 *
 * @example
 * ```ts
 * idempotencyRecordKey('8e03978e-40d5-43e8-bc93-6894a57f9324', 'Bearer abc') // 'i:Xy3…'
 * ```
 */
export function idempotencyRecordKey(key: string, scope: string): string {
  return IDEMPOTENCY_NAMESPACE + createHash('sha256').update(scope).update('\0').update(key).digest('base64url')
}

/**
 * What identifies a request for an idempotency key: method, target and body. A retry must send
 * the same; another request under a used key is refused (draft-ietf-httpapi-idempotency-key-header).
 *
 * @example
 * ```ts
 * requestFingerprint('POST', '/orders', body)
 * ```
 */
export function requestFingerprint(method: string, url: string, body: SharedArrayBuffer | ArrayBuffer | null): string {
  const hash = createHash('sha256').update(method).update('\0').update(url).update('\0')
  if (body) hash.update(new Uint8Array(body))
  return hash.digest('base64url')
}

/**
 * Bytes of a record: a 4-byte length, the JSON of everything but the body, then the body.
 *
 * @example
 * ```ts
 * decodeIdempotencyRecord(encodeIdempotencyRecord(record)) // deep-equals record
 * ```
 */
export function encodeIdempotencyRecord(record: IdempotencyRecord): Uint8Array {
  const head = Buffer.from(JSON.stringify({ ...record, body: record.body === null ? null : record.body.byteLength }), 'utf8')
  const out = Buffer.allocUnsafe(4 + head.byteLength + (record.body?.byteLength ?? 0))
  out.writeUInt32BE(head.byteLength, 0)
  head.copy(out, 4)
  if (record.body) out.set(record.body, 4 + head.byteLength)
  return out
}

/** Reads bytes written by `encodeIdempotencyRecord`; throws a StateError on anything else. */
export function decodeIdempotencyRecord(bytes: Uint8Array): IdempotencyRecord {
  try {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const length = buffer.readUInt32BE(0)
    const head = JSON.parse(buffer.subarray(4, 4 + length).toString('utf8')) as Omit<IdempotencyRecord, 'body'> & { body: number | null }
    const body = head.body === null ? null : new Uint8Array(buffer.subarray(4 + length, 4 + length + head.body))
    return { fingerprint: head.fingerprint, status: head.status, statusMessage: head.statusMessage ?? undefined, headers: head.headers, body, committedAt: head.committedAt }
  } catch (err) {
    throw new StateError(`an idempotency record is unreadable: ${(err as Error).message}`, { cause: err })
  }
}
