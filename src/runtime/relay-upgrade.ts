import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from '../log.js'
import type { Pool } from '../supervise/index.js'

/** Placeholder until the relay lands: upgrades are refused with 501. */
export function relayUpgrade(_pool: Pool, log: Logger, req: IncomingMessage, socket: Duplex, _head: Buffer): void {
  log.debug({ event: 'upgrade-refused', url: req.url }, 'upgrade not supported yet')
  socket.end('HTTP/1.1 501 Not Implemented\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
}
