import type { InstanceMessage, RequestMessage, ResponseHeaders, ResponseMessage, ToInstance } from './protocol.js'

/**
 * How the two messages every request pays for cross a worker thread's port. postMessage's
 * serializer writes every property name of every object in full; a request or a response as an
 * array of values, with the headers as one NUL-joined string and a small body as a latin1
 * string, serialises and reads back in about half the time (measured: ~1.9 µs of the
 * dispatcher's CPU per request round trip as objects, ~0.9 µs packed). Everything else travels
 * as the objects protocol.ts declares; both ends unpack before anything else sees a message.
 */

/** A request on the wire: the fields of RequestMessage in a fixed order. */
export type PackedRequest = [
  tag: typeof REQUEST,
  id: number,
  seq: number,
  method: string,
  url: string,
  headerBlock: string,
  body: SharedArrayBuffer | ArrayBuffer | null,
  remoteAddress: string,
  remotePort: number,
  scheme: 'http' | 'https',
  sessionId: string | null,
]

/**
 * A whole response without a transaction on the wire. The body is a latin1 string (one byte per
 * character, so any bytes survive) when small, else an ArrayBuffer transferred with the message.
 */
export type PackedResponse = [tag: typeof RESPONSE, id: number, status: number, statusMessage: string | null, headers: string, body: string | ArrayBuffer | null]

const REQUEST = 1
const RESPONSE = 2

/**
 * Bodies up to this size travel as a string: copying into a string and back costs less than
 * allocating an ArrayBuffer and moving its backing store to the other thread.
 */
export const INLINE_BODY_BYTES = 8 * 1024

/**
 * Packs the requests of a batch bound for an instance (in place: the batch is the outbox's own).
 *
 * @example
 * ```ts
 * worker.postMessage(packToInstance(batch), transfer)
 * ```
 */
export function packToInstance(batch: ToInstance[]): unknown[] {
  const out = batch as unknown[]
  for (let i = 0; i < batch.length; i++) {
    const m = batch[i]!
    if (m.type === 'request') {
      out[i] = [REQUEST, m.id, m.seq, m.method, m.url, m.headerBlock, m.body, m.remoteAddress, m.remotePort, m.scheme, m.sessionId ?? null] satisfies PackedRequest
    }
  }
  return out
}

/** Unpacks a batch that packToInstance packed, in place. */
export function unpackToInstance(batch: unknown[]): ToInstance[] {
  for (let i = 0; i < batch.length; i++) {
    const m = batch[i]
    if (!Array.isArray(m)) continue
    const p = m as PackedRequest
    const msg: RequestMessage = { type: 'request', id: p[1], seq: p[2], method: p[3], url: p[4], headerBlock: p[5], body: p[6], remoteAddress: p[7], remotePort: p[8], scheme: p[9] }
    if (p[10] !== null) msg.sessionId = p[10]
    batch[i] = msg
  }
  return batch as ToInstance[]
}

/**
 * Packs the plain responses of a batch bound for the dispatcher, in place; large bodies are
 * added to `transfer`. A response with a transaction goes as it is (rare, and not the fast path).
 */
export function packFromInstance(batch: InstanceMessage[], transfer: ArrayBuffer[]): unknown[] {
  const out = batch as unknown[]
  for (let i = 0; i < batch.length; i++) {
    const m = batch[i]!
    if (m.type !== 'response' || m.tx !== undefined) continue
    let body: string | ArrayBuffer | null = null
    if (m.body !== null) {
      if (m.body.byteLength <= INLINE_BODY_BYTES) body = latin1Of(m.body)
      else transfer.push((body = exclusiveBuffer(m.body)))
    }
    out[i] = [RESPONSE, m.id, m.status, m.statusMessage ?? null, joinHeaders(m.headers), body] satisfies PackedResponse
  }
  return out
}

/** Unpacks a batch that packFromInstance packed, in place. */
export function unpackFromInstance(batch: unknown[]): InstanceMessage[] {
  for (let i = 0; i < batch.length; i++) {
    const m = batch[i]
    if (!Array.isArray(m)) continue
    const p = m as PackedResponse
    const body = p[5] === null ? null : typeof p[5] === 'string' ? Buffer.from(p[5], 'latin1') : new Uint8Array(p[5])
    batch[i] = { type: 'response', id: p[1], status: p[2], statusMessage: p[3] ?? undefined, headers: splitHeaders(p[4]), body } satisfies ResponseMessage
  }
  return batch as InstanceMessage[]
}

function latin1Of(body: Uint8Array): string {
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1')
}

/**
 * The body's own buffer when it spans all of one (a large body, copied once by the response
 * sink into a buffer of its own), else a copy: a slice of Node's shared pool, or an app's Buffer
 * it reuses after the response, must not be moved to another thread.
 */
function exclusiveBuffer(body: Uint8Array): ArrayBuffer {
  const buffer = body.buffer
  if (buffer instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === buffer.byteLength) return buffer
  const out = new Uint8Array(body.byteLength)
  out.set(body)
  return out.buffer
}

function joinHeaders(headers: ResponseHeaders): string {
  let out = ''
  for (const name in headers) {
    // for…in also walks inherited keys: an app that polluted Object.prototype (a JSON body with
    // "__proto__" merged naively) would otherwise break every response of its instance here.
    if (!Object.hasOwn(headers, name)) continue
    const value = headers[name]!
    if (typeof value === 'string') out += out === '' ? `${name}\0${value}` : `\0${name}\0${value}`
    else for (const item of value) out += out === '' ? `${name}\0${item}` : `\0${name}\0${item}`
  }
  return out
}

/** Names are lower-case already (parseResponseHead); set-cookie is always an array, as there. */
function splitHeaders(block: string): ResponseHeaders {
  const headers: ResponseHeaders = {}
  if (block === '') return headers
  const parts = block.split('\0')
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const name = parts[i]!
    const value = parts[i + 1]!
    const prev = headers[name]
    if (prev === undefined) headers[name] = name === 'set-cookie' ? [value] : value
    else if (Array.isArray(prev)) prev.push(value)
    else headers[name] = [prev, value]
  }
  return headers
}
