import type { Server } from 'node:http'
import type { MessagePort } from 'node:worker_threads'
import type { SocketCloseMessage, SocketDataMessage, UpgradeMessage } from '../protocol.js'

/** Relays upgraded connections (WebSocket) between the dispatcher and the app's server. */
export interface UpgradeRelay {
  accept(msg: UpgradeMessage, server: Server): void
  refuse(id: number): void
  receive(msg: SocketDataMessage | SocketCloseMessage): void
}

/** Placeholder until the relay lands: every upgrade is refused (the dispatcher closes it). */
export function createUpgradeRelay(port: MessagePort): UpgradeRelay {
  const refuse = (id: number): void => port.postMessage({ type: 'socket-close', id } satisfies SocketCloseMessage)
  return {
    accept: (msg) => refuse(msg.id),
    refuse,
    receive: () => {},
  }
}
