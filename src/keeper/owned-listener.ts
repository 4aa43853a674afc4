import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import type { ListenerName } from './keeper-protocol.js'

/** Where the listener hands a connection: returns false when it could not take it. */
export type ConnectionTarget = (socket: Socket) => boolean

/** Connections held while no runtime is active, at most: past it a flood is cut, not buffered. */
const MAX_HELD = 10_000

/**
 * A listening socket the keeper owns for the life of the service. It is shared with the active
 * runtime (which accepts on its own copy of the descriptor), so while a runtime serves, most
 * connections never touch the keeper. The keeper's copy accepts too: what it gets is forwarded
 * to the active runtime unread (`pauseOnConnect`), and held while there is none, so during a
 * runtime's replacement new connections wait instead of being refused. The socket closes only
 * when the keeper stops: a dead runtime closes nothing but its own copy.
 *
 * @example
 * ```ts
 * const service = await OwnedListener.bind('service', 3000, undefined)
 * service.forwardTo((socket) => runtime.sendConnection('service', socket))
 * ```
 */
export class OwnedListener {
  private readonly held: Socket[] = []
  private target: ConnectionTarget | null = null

  private constructor(
    readonly name: ListenerName,
    readonly server: Server,
  ) {
    server.on('connection', (socket) => this.route(socket))
  }

  /** Binds and listens; rejects with the bind error (EADDRINUSE, EACCES) as it came. */
  static bind(name: ListenerName, port: number, host: string | undefined): Promise<OwnedListener> {
    const server = createServer({ pauseOnConnect: true })
    const listener = new OwnedListener(name, server)
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve(listener)
      })
    })
  }

  get address(): AddressInfo {
    return this.server.address() as AddressInfo
  }

  /** Connections accepted while no runtime could take them, waiting. */
  get heldCount(): number {
    return this.held.length
  }

  /** From now on connections go to `target` (null: hold them); held ones go first, in order. */
  forwardTo(target: ConnectionTarget | null): void {
    this.target = target
    while (target && this.held.length > 0) {
      const socket = this.held.shift()!
      if (socket.destroyed) continue
      if (!target(socket)) {
        this.held.unshift(socket)
        break
      }
    }
  }

  /** Stops accepting and closes the keeper's copy; held connections are closed. */
  close(): Promise<void> {
    this.target = null
    for (const socket of this.held.splice(0)) socket.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  /** Takes back a connection a runtime never claimed (it died): it goes to the next one, unread. */
  requeue(socket: Socket): void {
    this.route(socket)
  }

  private route(socket: Socket): void {
    // A client that gives up while held must not stay in the list until the next runtime.
    socket.once('close', () => {
      const at = this.held.indexOf(socket)
      if (at >= 0) this.held.splice(at, 1)
    })
    if (this.target && this.held.length === 0 && this.target(socket)) return
    if (this.held.length >= MAX_HELD) {
      socket.destroy()
      return
    }
    this.held.push(socket)
  }
}
