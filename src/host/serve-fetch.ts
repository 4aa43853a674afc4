import { unpackHeaders, type RequestMessage } from '../protocol.js'
import { fromFetchHeaders } from './headers.js'
import type { FetchHandler } from './load-app.js'
import type { RequestState } from './request-state.js'
import type { ResponseSink } from './response-sink.js'

/**
 * Runs one request through a fetch handler (`(request, ctx) => Response`) and streams the
 * Response body into the sink. A handler that throws or rejects fails only this request.
 * Returns a function that aborts the request (its `request.signal` fires).
 *
 * @example
 * ```ts
 * const abort = serveFetch(app.fetch, message, sink, state)
 * ```
 */
export function serveFetch(fetch: FetchHandler, msg: RequestMessage, sink: ResponseSink, state: RequestState): () => void {
  const controller = new AbortController()
  void run(fetch, msg, sink, state, controller.signal)
  return () => {
    sink.abandon()
    controller.abort()
  }
}

async function run(fetch: FetchHandler, msg: RequestMessage, sink: ResponseSink, state: RequestState, signal: AbortSignal): Promise<void> {
  try {
    const request = toRequest(msg, signal)
    const response = await fetch(request, state.context)
    if (!isResponse(response)) {
      throw new TypeError(`the fetch handler returned ${describe(response)} instead of a Response`)
    }
    sink.writeHead(response.status, response.statusText || undefined, fromFetchHeaders(response.headers))
    if (response.body && msg.method !== 'HEAD') {
      for await (const chunk of response.body) {
        if (sink.done) break
        sink.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
      }
    }
    sink.end(null)
  } catch (err) {
    if (!signal.aborted) sink.fail(err)
  }
}

function toRequest(msg: RequestMessage, signal: AbortSignal): Request {
  const headers = new Headers()
  let host = 'localhost'
  const rawHeaders = unpackHeaders(msg.headerBlock)
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!
    const value = rawHeaders[i + 1]!
    if (name.toLowerCase() === 'host') host = value
    headers.append(name, value)
  }
  const hasBody = msg.body !== null && msg.method !== 'GET' && msg.method !== 'HEAD'
  const init: RequestInit & { duplex?: 'half' } = { method: msg.method, headers, signal }
  if (hasBody) {
    init.body = new Uint8Array(msg.body as SharedArrayBuffer).slice()
    init.duplex = 'half'
  }
  return new Request(absoluteUrl(msg, host), init)
}

/** The Host header comes from the client: a malformed one must not break the request. */
function absoluteUrl(msg: RequestMessage, host: string): URL {
  try {
    return new URL(msg.url, `${msg.scheme}://${host}`)
  } catch {
    return new URL(msg.url, `${msg.scheme}://localhost`)
  }
}

function isResponse(value: unknown): value is Response {
  return value instanceof Response || (typeof value === 'object' && value !== null && 'status' in value && 'headers' in value && 'body' in value)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`
  return typeof value
}
