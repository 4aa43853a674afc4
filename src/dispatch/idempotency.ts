import type { Logger } from 'pino'
import type { CrashlessErrorCode } from '../errors.js'
import type { ResponseHeaders, ResponseMessage } from '../protocol.js'
import {
  decodeIdempotencyRecord,
  encodeIdempotencyRecord,
  idempotencyRecordKey,
  MAX_RECORDED_BODY_BYTES,
  requestFingerprint,
  type IdempotencyRecord,
  type StateBackend,
  type WriteOp,
} from '../state/index.js'
import type { Job } from './job.js'

/** What identifies a deduplicated request: its record's key and its fingerprint. */
export interface KeyedRequest {
  recordKey: string
  fingerprint: string
}

/** What to do with a keyed request: run it, answer the recorded response, or refuse it. */
export type KeyedVerdict =
  | { kind: 'run' }
  | { kind: 'replay'; response: ResponseMessage }
  | { kind: 'refuse'; status: number; code: CrashlessErrorCode; message: string }

/** Safe methods change nothing, so there is nothing to deduplicate (RFC 9110 §9.2.1). */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])
const MAX_KEY_LENGTH = 512

/**
 * Deduplication of requests carrying an idempotency key (draft-ietf-httpapi-idempotency-key-header):
 * the response of a request that committed is recorded in the SAME atomic commit as its writes,
 * so a retry either finds the record (the request happened: the client gets the recorded
 * response, and the app does not run) or finds none (nothing of it happened: it runs). A request
 * that failed records nothing, so its retry runs again.
 *
 * - The same key while the first request runs in this process: 409 CRASHLESS_ERR_IN_PROGRESS
 *   (the draft's answer; clients retry later). Across processes sharing a Redis store both may
 *   run, but only one commits: the other's commit conflicts on the record and it is answered
 *   with the winner's response.
 * - The key reused for another request (method, target or body differ): 422
 *   CRASHLESS_ERR_IDEMPOTENCY_MISMATCH.
 * - Responses are kept up to 1 MiB of body; a bigger or streamed one is recorded without its
 *   body, and a retry gets 422 CRASHLESS_ERR_IDEMPOTENCY_UNRECORDED (it was applied; its
 *   response cannot be given again).
 * - Keys are scoped by the Authorization header and the session cookie (when either is sent),
 *   so two clients using one key do not see each other's responses. Keys must still be
 *   unguessable (UUIDs): a client sending neither shares the scope of every such client.
 *
 * @example
 * ```ts
 * job.idempotency = idempotency.keyOf(job.method, req.rawHeaders, body) // null without a key
 * const verdict = await idempotency.check(job)
 * ```
 */
export class Idempotency {
  /** Keyed requests running in this process, by record key. */
  private readonly running = new Map<string, Job>()

  constructor(
    private readonly backend: StateBackend,
    private readonly options: { idempotencyKeyHeader: string; idempotencyTtlMs: number },
    private readonly log: Logger,
  ) {}

  /** The request's record key and fingerprint; null when it is not deduplicated; 'bad' for an unusable key. */
  keyOf(method: string, url: string, rawHeaders: readonly string[], body: SharedArrayBuffer | null, sessionId: string | null): KeyedRequest | 'bad' | null {
    if (SAFE.has(method)) return null
    const name = this.options.idempotencyKeyHeader
    let key: string | undefined
    let scope = ''
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const header = rawHeaders[i]!
      if (header.length === name.length && header.toLowerCase() === name) key ??= rawHeaders[i + 1]!
      else if (header.length === 13 && header.toLowerCase() === 'authorization') scope = rawHeaders[i + 1]!
    }
    if (key === undefined) return null
    // The draft's syntax is a quoted sf-string; most clients send the bare value.
    if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1)
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) return 'bad'
    if (sessionId !== null) scope += `\0${sessionId}`
    return { recordKey: idempotencyRecordKey(key, scope), fingerprint: requestFingerprint(method, url, body) }
  }

  /** Marks the job's key as running here; false when another request with it already is. */
  claim(job: Job): boolean {
    const key = job.idempotency!.recordKey
    const other = this.running.get(key)
    if (other && other !== job && !other.done) return false
    this.running.set(key, job)
    return true
  }

  /** The job is finished: its key is free again (a retry finds its record, or runs). */
  release(job: Job): void {
    const key = job.idempotency?.recordKey
    if (key !== undefined && this.running.get(key) === job) this.running.delete(key)
  }

  /** Looks the job's key up: no record, run it; else answer from the record. */
  async check(job: Job): Promise<KeyedVerdict> {
    let found
    try {
      ;[found] = await this.backend.get([job.idempotency!.recordKey])
    } catch (err) {
      this.log.error({ event: 'idempotency-lookup-failed', requestId: job.requestId, err }, 'the state store failed to look up an idempotency key; answered 503')
      return { kind: 'refuse', status: 503, code: 'CRASHLESS_ERR_STATE', message: 'the state store failed to look up the idempotency key; retry' }
    }
    if (!found) return { kind: 'run' }
    let record: IdempotencyRecord
    try {
      record = decodeIdempotencyRecord(found.value)
    } catch (err) {
      this.log.error({ event: 'idempotency-lookup-failed', requestId: job.requestId, err }, 'an idempotency record is unreadable; answered 503')
      return { kind: 'refuse', status: 503, code: 'CRASHLESS_ERR_STATE', message: 'the idempotency record of this key is unreadable' }
    }
    return this.answer(job, record)
  }

  /**
   * The record to commit with the job's writes: its response as the client gets it (headers
   * including the session cookie), kept for `idempotencyTtlMs`.
   */
  record(job: Job, status: number, statusMessage: string | undefined, headers: ResponseHeaders, body: Uint8Array | null, streamed: boolean): WriteOp {
    const kept = streamed || (body !== null && body.byteLength > MAX_RECORDED_BODY_BYTES) ? null : (body ?? new Uint8Array(0))
    const record: IdempotencyRecord = { fingerprint: job.idempotency!.fingerprint, status, statusMessage, headers: { ...headers }, body: kept, committedAt: Date.now() }
    return { key: job.idempotency!.recordKey, value: encodeIdempotencyRecord(record), ttlMs: this.options.idempotencyTtlMs }
  }

  private answer(job: Job, record: IdempotencyRecord): KeyedVerdict {
    const when = new Date(record.committedAt).toISOString()
    if (record.fingerprint !== job.idempotency!.fingerprint) {
      this.log.info({ event: 'idempotency-mismatch', requestId: job.requestId, method: job.method, url: job.url }, 'an idempotency key was reused for another request; refused')
      return { kind: 'refuse', status: 422, code: 'CRASHLESS_ERR_IDEMPOTENCY_MISMATCH', message: `this idempotency key was used at ${when} for another request (a different method, target or body)` }
    }
    if (record.body === null) {
      return { kind: 'refuse', status: 422, code: 'CRASHLESS_ERR_IDEMPOTENCY_UNRECORDED', message: `the request with this idempotency key was applied at ${when} (status ${record.status}); its response was streamed or over 1 MiB, so it was not kept` }
    }
    this.log.info({ event: 'idempotent-replay', requestId: job.requestId, method: job.method, url: job.url, status: record.status }, 'answered a retry with the recorded response, without running it again')
    const body = record.body.byteLength === 0 ? null : record.body.slice()
    const headers: ResponseHeaders = { ...record.headers, 'idempotent-replayed': 'true' }
    return { kind: 'replay', response: { type: 'response', id: job.id, status: record.status, statusMessage: record.statusMessage, headers, body } }
  }
}
