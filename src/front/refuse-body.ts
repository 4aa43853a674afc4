/**
 * Answering a request whose body crashless will not read in full: one too large (413) or one
 * too slow to arrive (408). Either way the rest of the body is read and thrown away rather
 * than left unread: closing a connection with unread data makes the kernel reset it, and the
 * client may then never see the answer (RFC 9112 §9.6).
 */

import type { IncomingMessage, ServerResponse } from 'node:http'
import { respondError } from '../dispatch/index.js'

/** How long the rest of an oversized body is read and discarded after the 413. */
const LINGER_MS = 2000

/**
 * Answers 413 at once and discards what the client is still sending, keeping the connection
 * in sync for its next request; a client that keeps sending past `LINGER_MS` is cut off.
 *
 * @example
 * ```ts
 * refuseTooLarge(req, res, 'the request body exceeds 1024 bytes (limits.maxBodyBytes)')
 * ```
 */
export function refuseTooLarge(req: IncomingMessage, res: ServerResponse, message: string): void {
  req.resume()
  const linger = setTimeout(() => req.socket.destroy(), LINGER_MS).unref()
  req.once('end', () => clearTimeout(linger))
  req.once('close', () => clearTimeout(linger))
  respondError(res, 413, 'CRASHLESS_ERR_BODY_TOO_LARGE', message, '-')
}

/**
 * Answers 408 and closes the connection once the answer is out (RFC 9110 §15.5.9: the server
 * is done waiting for this client). Whatever arrives meanwhile is discarded, not buffered.
 *
 * @example
 * ```ts
 * refuseSlow(req, res, 'the request body was not received within 30000 ms (timeouts.bodyMs)')
 * ```
 */
export function refuseSlow(req: IncomingMessage, res: ServerResponse, message: string): void {
  req.resume()
  // `connection: close` makes Node end the socket once the response has been written.
  respondError(res, 408, 'CRASHLESS_ERR_REQUEST_TIMEOUT', message, '-', { connection: 'close' })
}
