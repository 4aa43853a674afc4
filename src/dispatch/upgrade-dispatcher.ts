import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import type { UpgradeTraffic } from '../protocol.js'
import type { Instance, InstanceLoss, Pool } from '../supervise/index.js'
import { respondError } from './respond-error.js'
import { closeSoon, responseOverSocket } from './socket-response.js'
import { UpgradedConnection } from './upgraded-connection.js'

/** Serves an upgrade request the app did not take as a plain HTTP request. */
export type ServeAsHttp = (req: IncomingMessage, res: ServerResponse) => void

/**
 * The dispatcher's side of upgraded connections (WebSocket, socket.io): it binds each one to an
 * instance, relays its bytes both ways, and when an instance dies closes exactly the
 * connections that instance held. Connections are not requests: they have no deadline, are
 * not counted against an instance's concurrency, and do not hold up a drain.
 *
 * @example
 * ```ts
 * const upgrades = new UpgradeDispatcher(log, (req, res) => dispatcher.submit(req, res, null))
 * upgrades.attach(pool)
 * front.on('upgrade', (req, socket, head) => upgrades.accept(req, socket, head))
 * ```
 */
export class UpgradeDispatcher {
  private readonly connections = new Map<number, UpgradedConnection>()
  private readonly byInstance = new Map<Instance, Set<UpgradedConnection>>()
  private nextId = 1
  private readonly bootId = Math.random().toString(36).slice(2, 8)
  private closing = false
  private pool: Pool | null = null

  constructor(
    private readonly log: Logger,
    private readonly serveAsHttp: ServeAsHttp,
  ) {}

  attach(pool: Pool): void {
    this.pool = pool
  }

  /** Connections offered to or held by an instance. */
  get size(): number {
    return this.connections.size
  }

  /** Takes an upgrade request from the front and offers it to the least busy instance. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const n = this.nextId++
    const name = `${this.bootId}-u${n}`
    socket.on('error', (err) => this.log.debug({ event: 'upgrade-socket-error', connection: name, err }, 'client socket error'))
    if (this.closing) {
      respondError(responseOverSocket(req, socket), 503, 'CRASHLESS_ERR_SHUTTING_DOWN', 'the server is shutting down', name, { 'retry-after': '1' })
      return
    }
    const instance = this.choose()
    if (!instance) {
      respondBusy(req, socket, name)
      return
    }
    const conn = new UpgradedConnection(-n, name, req, socket as Socket, head)
    // Once the connection is forgotten (closed, or served as HTTP instead) this does nothing.
    socket.once('close', () => this.clientClosed(conn))
    this.connections.set(conn.id, conn)
    this.offer(conn, instance)
  }

  /** A message about a connection from the instance that holds it. */
  handleMessage(instance: Instance, msg: UpgradeTraffic): void {
    const conn = this.connections.get(msg.id)
    // Late traffic for a connection that was closed or moved: nothing to do.
    if (!conn || conn.instance !== instance) return
    switch (msg.type) {
      case 'upgrade-answer':
        if (msg.accepted) conn.open()
        else this.refused(conn)
        return
      case 'socket-data':
        if (msg.data === null) conn.socket.end()
        else conn.toClient(Buffer.from(msg.data))
        return
      case 'socket-ack':
        conn.acknowledged(msg.bytes)
        return
      case 'socket-close':
        this.forget(conn)
        closeSoon(conn.socket)
    }
  }

  /**
   * An instance died: its connections are closed, and only those. Upgrades it had not answered
   * yet are offered to another instance, unless one of them is what killed it.
   */
  closeInstance(instance: Instance, loss: InstanceLoss): void {
    const held = this.byInstance.get(instance)
    this.byInstance.delete(instance)
    if (!held || held.size === 0) return
    let closed = 0
    let reoffered = 0
    let culprit: string | null = null
    for (const conn of held) {
      if (conn.id === loss.culprit) culprit = conn.name
      // Nothing was exchanged yet, so the upgrade can start over elsewhere.
      const unanswered = conn.state === 'offered' && conn.id !== loss.culprit
      const next = unanswered && conn.offers < 2 ? this.choose() : null
      if (next) {
        reoffered++
        this.offer(conn, next)
        continue
      }
      closed++
      this.forget(conn)
      if (unanswered) respondBusy(conn.req, conn.socket, conn.name)
      else conn.socket.destroy()
    }
    this.log.warn({ event: 'connections-lost', instance: instance.id, reason: loss.reason, closed, reoffered, culprit }, `closed ${closed} upgraded connection(s) of lost instance ${instance.id}`)
  }

  /** From now on upgrades are answered 503. */
  beginClosing(): void {
    this.closing = true
  }

  /** Closes every connection (shutdown): the instances hear of it as a client close. */
  closeAll(): void {
    this.closing = true
    for (const conn of [...this.connections.values()]) conn.socket.destroy()
  }

  private offer(conn: UpgradedConnection, instance: Instance): void {
    let held = this.byInstance.get(instance)
    if (!held) this.byInstance.set(instance, (held = new Set()))
    held.add(conn)
    conn.offerTo(instance)
    this.log.debug({ event: 'upgrade', connection: conn.name, instance: instance.id, url: conn.req.url }, 'upgrade offered')
  }

  /** Fewest connections first, then fewest requests in flight. */
  private choose(): Instance | null {
    let best: Instance | null = null
    let bestLoad = [Infinity, Infinity]
    for (const instance of this.pool?.active ?? []) {
      if (instance.state !== 'ready') continue
      const load = [this.byInstance.get(instance)?.size ?? 0, instance.inflight.size]
      if (load[0]! < bestLoad[0]! || (load[0] === bestLoad[0] && load[1]! < bestLoad[1]!)) {
        best = instance
        bestLoad = load
      }
    }
    return best
  }

  /** The app has no `upgrade` listener: Node would serve the request as plain HTTP. */
  private refused(conn: UpgradedConnection): void {
    this.forget(conn)
    const { req, socket } = conn
    if (req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0') {
      // The body is unparsed in the socket by now; refuse rather than serve it half-read.
      const res = responseOverSocket(req, socket)
      const body = JSON.stringify({ error: { code: 'CRASHLESS_ERR_UPGRADE_REFUSED', message: 'the app does not accept upgrades, and an upgrade request with a body cannot be served as plain HTTP', requestId: conn.name } })
      res.writeHead(501, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-crashless-request-id': conn.name })
      res.end(body)
      return
    }
    this.serveAsHttp(req, responseOverSocket(req, socket))
  }

  private clientClosed(conn: UpgradedConnection): void {
    if (conn.state === 'closed') return
    this.forget(conn)
    conn.instance?.post({ type: 'socket-close', id: conn.id })
  }

  private forget(conn: UpgradedConnection): void {
    conn.state = 'closed'
    this.connections.delete(conn.id)
    if (conn.instance) this.byInstance.get(conn.instance)?.delete(conn)
  }
}

function respondBusy(req: IncomingMessage, socket: Duplex, name: string): void {
  respondError(responseOverSocket(req, socket), 503, 'CRASHLESS_ERR_OVERLOADED', 'no instance is ready to take the connection; retry later', name, { 'retry-after': '1' })
}
