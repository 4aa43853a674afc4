import { ServerResponse, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'

/** How long a closing socket may take to flush to a client that does not read. */
const FLUSH_MS = 5000

/**
 * A `ServerResponse` over the socket of an upgrade request that will not be upgraded, so it
 * can be answered like any other request (a crashless error, or the app's own response).
 * Node hands such sockets over with no HTTP machinery left on them: the connection is closed
 * once the response is sent.
 *
 * @example
 * ```ts
 * respondError(responseOverSocket(req, socket), 503, 'CRASHLESS_ERR_OVERLOADED', 'retry later', id)
 * ```
 */
export function responseOverSocket(req: IncomingMessage, socket: Duplex): ServerResponse {
  const res = new ServerResponse(req)
  res.shouldKeepAlive = false
  res.assignSocket(socket as Socket)
  res.once('finish', () => {
    res.detachSocket(socket as Socket)
    closeSoon(socket)
  })
  return res
}

/**
 * Ends a socket after what was written to it is flushed, and destroys it then (or after a
 * bound, for a client that stopped reading).
 *
 * @example
 * ```ts
 * socket.write(lastBytes)
 * closeSoon(socket)
 * ```
 */
export function closeSoon(socket: Duplex): void {
  if (socket.destroyed) return
  if (socket.writableFinished) {
    socket.destroy()
    return
  }
  const timer = setTimeout(() => socket.destroy(), FLUSH_MS).unref()
  socket.once('close', () => clearTimeout(timer))
  socket.once('finish', () => socket.destroy())
  socket.end()
}
