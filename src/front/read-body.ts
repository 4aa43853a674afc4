import type { IncomingMessage } from 'node:http'
import type { BodyBudget } from './body-budget.js'

/** The outcome of reading a request body. */
export type BodyResult =
  /** `release` gives the body's bytes back to the budget: call it once the request is over. */
  | { ok: true; body: SharedArrayBuffer | null; release: (() => void) | null }
  /** Over `limits.maxBodyBytes`, or over the whole of `limits.bufferedBodyMb` (it could never fit). */
  | { ok: false; reason: 'too-large'; limit: 'maxBodyBytes' | 'bufferedBodyMb'; bytes: number }
  /** Not received within `timeouts.bodyMs`; `waited` when part of that was spent waiting for room. */
  | { ok: false; reason: 'timeout'; waited: boolean; received: number }
  | { ok: false; reason: 'aborted' }

/** What bounds the reading of one body. */
export interface BodyLimits {
  /** `limits.maxBodyBytes`. */
  maxBytes: number
  /** Shared by every connection (`limits.bufferedBodyMb`). */
  budget: BodyBudget
  /** `timeouts.bodyMs`: from the end of the head to the end of the body, waiting included. */
  timeoutMs: number
  /** Called when the body has to wait for room in the budget. */
  onWait?: () => void
}

/** No body framing, or `content-length: 0`: nothing to read, nothing held. */
const EMPTY: BodyResult = Object.freeze({ ok: true, body: null, release: null })

/**
 * Reads a request body into shared memory, so it can be handed to an instance without a copy
 * and kept for re-serving, within the budget shared by all connections.
 *
 * Memory is taken as bytes arrive, never for a size a client merely announces, and the budget
 * is what bounds it: a body with a `content-length` first reserves that much of the budget (so
 * a body that has started can always finish, instead of many half-received bodies holding the
 * budget between them while none completes), and is copied into its buffer chunk by chunk; a
 * chunked body reserves each chunk as it comes and is copied into one buffer at the end (so it
 * is briefly held twice). A body that does not fit is not read: its socket is paused and TCP
 * pushes back on the client until room frees up or `timeoutMs` passes.
 *
 * @example
 * ```ts
 * readBody(req, { maxBytes: 10 << 20, budget, timeoutMs: 30_000 }, (result) => {
 *   if (result.ok) res.once('close', () => result.release?.())
 * })
 * ```
 */
export function readBody(req: IncomingMessage, limits: BodyLimits, done: (result: BodyResult) => void): void {
  const declared = req.headers['content-length']
  const chunked = req.headers['transfer-encoding'] !== undefined
  // RFC 9112 §6.3: without framing the body is empty; skip the stream machinery.
  if (!chunked && (declared === undefined || Number(declared) === 0)) return done(EMPTY)
  const { maxBytes, budget } = limits
  const tooLarge = (bytes: number): BodyResult => ({ ok: false, reason: 'too-large', limit: maxBytes <= budget.totalBytes ? 'maxBodyBytes' : 'bufferedBodyMb', bytes })
  const cap = Math.min(maxBytes, budget.totalBytes)
  // llhttp refuses a message with both framings, so a declared length is the body's length.
  const length = chunked ? null : Number(declared)
  if (length !== null && length > cap) return done(tooLarge(length))

  const lease = budget.lease()
  let settled = false
  let waited = false
  let received = 0
  /** What has arrived: the body's buffer (declared length) or its chunks (chunked). */
  let view: Uint8Array | null = null
  const chunks: Buffer[] = []
  const settle = (result: BodyResult): void => {
    if (settled) return
    settled = true
    clearTimeout(timer)
    if (!result.ok) {
      // The connection may linger a while (the 413 drains the rest): drop the bytes now.
      view = null
      chunks.length = 0
      lease.release()
    }
    done(result)
  }
  const timer = setTimeout(() => settle({ ok: false, reason: 'timeout', waited, received }), limits.timeoutMs)
  const wait = (): void => {
    waited = true
    limits.onWait?.()
  }
  req.on('error', () => settle({ ok: false, reason: 'aborted' }))
  req.on('aborted', () => settle({ ok: false, reason: 'aborted' }))

  if (length !== null) {
    const start = (): void => {
      req.on('data', (chunk: Buffer) => {
        if (settled) return
        // llhttp never passes more than the declared length; a throw here would end the process.
        if (received + chunk.length > length) return settle({ ok: false, reason: 'aborted' })
        // Allocated at the first byte rather than at the reservation: a client that sends
        // headers only costs budget for a while, but no memory.
        view ??= new Uint8Array(new SharedArrayBuffer(length))
        view.set(chunk, received)
        received += chunk.length
      })
    }
    // Until then no 'data' listener: the stream stays paused and its socket unread.
    if (lease.grow(length, start)) start()
    else wait()
    req.on('end', () => settle({ ok: true, body: view ? (view.buffer as SharedArrayBuffer) : null, release: lease.release }))
    return
  }

  req.on('data', (chunk: Buffer) => {
    if (settled) return
    received += chunk.length
    if (received > cap) return settle(tooLarge(received))
    chunks.push(chunk)
    // The chunk is already here; what waits is the next one.
    if (!lease.grow(chunk.length, () => req.resume())) {
      req.pause()
      wait()
    }
  })
  req.on('end', () => {
    if (received === 0) return settle({ ok: true, body: null, release: lease.release })
    const shared = new SharedArrayBuffer(received)
    const whole = new Uint8Array(shared)
    let offset = 0
    for (const chunk of chunks) {
      whole.set(chunk, offset)
      offset += chunk.length
    }
    chunks.length = 0
    settle({ ok: true, body: shared, release: lease.release })
  })
}
