/**
 * What the front answers when Node's HTTP parser gives up on a connection before any request
 * reached crashless: malformed HTTP (400), a head too large (431) or a head that did not arrive
 * within `timeouts.headersMs` (408; Node itself answers 408 there, with no body).
 */

import http from 'node:http'
import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import type { CrashlessErrorCode } from '../errors.js'

/**
 * A `clientError` listener answering with crashless's JSON error and closing the connection.
 * There is no request yet, hence no request id.
 *
 * @example
 * ```ts
 * server.on('clientError', answerClientError(log, config.timeouts.headersMs))
 * ```
 */
export function answerClientError(log: Logger, headersMs: number): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    // A response already under way on this connection (pipelining) would be corrupted by a
    // second status line in its body: cut the connection instead, as Node's default does.
    const inFlight = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy()
      return
    }
    const { status, code, message } = describe(err.code, headersMs)
    const body = JSON.stringify({ error: { code, message } })
    log.debug({ event: 'client-error', code: err.code }, message)
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
  }
}

function describe(errCode: string | undefined, headersMs: number): { status: number; code: CrashlessErrorCode; message: string } {
  // Node's headersTimeout; its requestTimeout is off (the front times bodies itself).
  if (errCode === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, code: 'CRASHLESS_ERR_REQUEST_TIMEOUT', message: `the request head was not received within ${headersMs} ms (timeouts.headersMs)` }
  }
  const status = errCode === 'HPE_HEADER_OVERFLOW' ? 431 : 400
  return { status, code: 'CRASHLESS_ERR_BAD_REQUEST', message: `malformed HTTP request (${errCode ?? 'parse error'})` }
}
