import http from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import type { ResolvedConfig } from '../config/index.js'
import { respondError } from '../dispatch/index.js'
import { readBody } from './read-body.js'

/** How long the rest of an oversized body is read and discarded after the 413. */
const LINGER_MS = 2000

/** What the front hands requests to. */
export interface FrontTarget {
  submit(req: http.IncomingMessage, res: http.ServerResponse, body: SharedArrayBuffer | null): void
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void
}

/**
 * The HTTP front: accepts connections, parses requests (Node's llhttp), enforces the body
 * limit and turns malformed requests away, then hands each request to the dispatcher.
 * It never runs user code.
 *
 * @example
 * ```ts
 * const server = createFront(config, log, dispatcher)
 * server.listen(3000)
 * ```
 */
export function createFront(config: ResolvedConfig, log: Logger, target: FrontTarget): http.Server {
  const server = http.createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    readBody(req, config.limits.maxBodyBytes, (result) => {
      if (result.ok) return target.submit(req, res, result.body)
      if (result.reason === 'aborted') return
      // Answer at once, but keep reading and discarding what the client is still sending:
      // closing with unread data resets the connection and the client may never see the 413
      // (RFC 9112 §9.6). The rest of the body is not buffered; a client that keeps sending
      // past LINGER_MS is cut off.
      req.resume()
      const linger = setTimeout(() => req.socket.destroy(), LINGER_MS).unref()
      req.once('end', () => clearTimeout(linger))
      req.once('close', () => clearTimeout(linger))
      respondError(res, 413, 'CRASHLESS_ERR_BODY_TOO_LARGE', `the request body exceeds ${config.limits.maxBodyBytes} bytes`, '-')
    })
  })
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => target.upgrade(req, socket, head))
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Malformed HTTP never reaches the app: answer 400 (or 431 for huge headers) and close.
    // A response already under way on this connection (pipelining) would be corrupted by a
    // second status line in its body: cut the connection instead, as Node's default does.
    const inFlight = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy()
      return
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400
    const body = JSON.stringify({ error: { code: 'CRASHLESS_ERR_BAD_REQUEST', message: `malformed HTTP request (${err.code ?? 'parse error'})` } })
    log.debug({ event: 'client-error', code: err.code }, 'malformed request')
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
  })
  return server
}
