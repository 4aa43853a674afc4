import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { HOP_BY_HOP_HEADERS, type ResponseHeaders, type ResponseMessage } from '../protocol.js'


/**
 * Writes an app's response head to the client, minus hop-by-hop headers (`close` asks the client
 * to close its connection, when crashless is shutting down). Throws what Node throws for a head
 * it refuses (a bad status, a bad header value): the caller answers 502 instead.
 *
 * @example
 * ```ts
 * writeResponseHead(res, 200, undefined, { 'content-type': 'text/plain', connection: 'keep-alive' }, false)
 * ```
 */
export function writeResponseHead(res: ServerResponse, status: number, statusMessage: string | undefined, headers: ResponseHeaders, close: boolean): void {
  const out: OutgoingHttpHeaders = headers
  // Only names that are there: `delete` of a property turns the object into a hash table (a
  // new dictionary per response, measured at ~230 B of garbage each), so skip absent ones.
  for (const name of HOP_BY_HOP_HEADERS) if (out[name] !== undefined) delete out[name]
  if (close) out.connection = 'close'
  if (statusMessage) res.writeHead(status, statusMessage, out)
  else res.writeHead(status, out)
}

/**
 * A whole body is known: it goes with a length rather than chunked (fetch handlers rarely set
 * one). Never for HEAD, 1xx, 204 or 304, which carry no body.
 */
export function addContentLength(method: string, msg: ResponseMessage): void {
  if (!msg.body || msg.headers['content-length'] !== undefined || msg.headers['transfer-encoding'] !== undefined) return
  if (method === 'HEAD' || msg.status === 204 || msg.status === 304 || msg.status < 200) return
  msg.headers['content-length'] = String(msg.body.byteLength)
}
