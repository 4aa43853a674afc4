import { IncomingMessage, type Server } from 'node:http'
import type { Socket } from 'node:net'
import type { MessagePort } from 'node:worker_threads'
import { LeaseSlot, type SocketAckMessage, type SocketCloseMessage, type SocketDataMessage, type UpgradeAnswerMessage, type UpgradeMessage } from '../protocol.js'
import { foldRawHeaders } from './headers.js'
import { RelayedSocket } from './relayed-socket.js'
import { requestStorage } from './request-context.js'

/** Relays upgraded connections (WebSocket) between the dispatcher and the app's server. */
export interface UpgradeRelay {
  /** Hands the upgrade to the server's `upgrade` listeners, or refuses it if it has none. */
  accept(msg: UpgradeMessage, server: Server): void
  /** The app cannot take upgrades (not a listen() script): the dispatcher serves it as HTTP. */
  refuse(id: number): void
  /** Client bytes, end, close or acknowledgements for a connection. */
  receive(msg: SocketDataMessage | SocketCloseMessage | SocketAckMessage): void
}

/** Called when app code throws synchronously while handling a connection's event. */
export type OnConnectionThrow = (err: unknown, id: number) => void

/**
 * The instance's side of upgraded connections. Each one gets an `IncomingMessage` built from
 * the dispatcher's message and a `RelayedSocket` standing in for the TCP socket, and is given
 * to the app's server exactly as Node would: `server.emit('upgrade', req, socket, head)`.
 *
 * Everything the app does for a connection (its `upgrade` and `connection` handlers, each
 * message it receives, the timers it starts) runs in the connection's async context, so a
 * fault is attributed to the connection id.
 *
 * @example
 * ```ts
 * const upgrades = createUpgradeRelay(parentPort, (err, id) => die('uncaughtException', err, id))
 * upgrades.accept(msg, app.server)
 * ```
 */
export function createUpgradeRelay(port: MessagePort, onThrow: OnConnectionThrow, running?: Int32Array, publish: () => void = () => {}): UpgradeRelay {
  const sockets = new Map<number, RelayedSocket>()
  const answer = (id: number, accepted: boolean): void => port.postMessage({ type: 'upgrade-answer', id, accepted } satisfies UpgradeAnswerMessage)

  /** Runs app-facing work for one connection in its context; a synchronous throw is fatal, as in Node. */
  const within = (id: number, work: () => void): void => {
    // The Running slot of the lease names the connection while its code runs, so a loop in a message
    // handler that stalls the lease is blamed on this connection (see Instance.runningRequest).
    if (running) {
      Atomics.store(running, LeaseSlot.Running, id)
      publish()
    }
    requestStorage.run({ id }, () => {
      try {
        work()
      } catch (err) {
        onThrow(err, id)
      }
    })
    if (running) {
      Atomics.store(running, LeaseSlot.Running, 0)
      publish()
    }
  }

  return {
    accept(msg, server) {
      // Node serves an upgrade request as plain HTTP when nobody listens for `upgrade`.
      if (server.listenerCount('upgrade') === 0) return answer(msg.id, false)
      const socket = new RelayedSocket(port, msg.id, { address: msg.remoteAddress, port: msg.remotePort })
      sockets.set(msg.id, socket)
      socket.once('close', () => sockets.delete(msg.id))
      const req = buildRequest(msg, socket)
      const head = msg.head ? Buffer.from(msg.head) : Buffer.alloc(0)
      // The answer goes first: the app may write its handshake response synchronously.
      answer(msg.id, true)
      within(msg.id, () => server.emit('upgrade', req, socket, head))
    },
    refuse: (id) => answer(id, false),
    receive(msg) {
      const socket = sockets.get(msg.id)
      // A connection that was refused or already closed: the dispatcher hears of it anyway.
      if (!socket) return
      switch (msg.type) {
        case 'socket-data':
          within(msg.id, () => socket.deliver(msg.data ? Buffer.from(msg.data) : null))
          return
        case 'socket-ack':
          within(msg.id, () => socket.acknowledge(msg.bytes))
          return
        case 'socket-close':
          within(msg.id, () => socket.closedByClient())
      }
    },
  }
}

/** An `IncomingMessage` as Node's parser would have produced for an upgrade request. */
function buildRequest(msg: UpgradeMessage, socket: RelayedSocket): IncomingMessage {
  const req = new IncomingMessage(socket as unknown as Socket)
  req.method = msg.method
  req.url = msg.url
  req.httpVersion = '1.1'
  req.httpVersionMajor = 1
  req.httpVersionMinor = 1
  req.rawHeaders = msg.rawHeaders
  req.headers = foldRawHeaders(msg.rawHeaders)
  ;(req as IncomingMessage & { upgrade: boolean }).upgrade = true
  req.complete = true
  // An upgrade request's body, if any, is part of the upgraded stream, not of `req`.
  req.push(null)
  return req
}
