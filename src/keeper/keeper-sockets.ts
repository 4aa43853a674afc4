import type { Socket } from 'node:net'
import { logAdminUnavailable } from '../admin/index.js'
import type { Logger } from '../log.js'
import type { ListenerName, ReadyMessage } from './keeper-protocol.js'
import { OwnedListener } from './owned-listener.js'
import type { RuntimeProcess } from './runtime-process.js'

/**
 * The keeper's listening sockets and where they go. Every active runtime gets the service socket
 * and accepts on it (the kernel spreads connections among them); what the keeper's own copy
 * accepts goes round-robin to the active runtimes, and waits while there is none. The admin
 * socket goes to one runtime only, which shows the others' figures too: it keeps it while it is
 * active, and when it dies or drains, the lowest active slot's runtime takes it.
 *
 * @example
 * ```ts
 * const sockets = new KeeperSockets(log)
 * await sockets.bind(runtime.ready!)           // where the first ready runtime asked
 * sockets.hand(runtime)                        // on its promotion
 * sockets.moveAdmin(actives)                   // true: another runtime has the admin socket now
 * sockets.route(() => actives)
 * ```
 */
export class KeeperSockets {
  private readonly listeners = new Map<ListenerName, OwnedListener>()
  private holder: RuntimeProcess | null = null
  /** Round-robin position over the active runtimes. */
  private turn = 0

  constructor(private readonly log: Logger) {}

  get bound(): boolean {
    return this.listeners.size > 0
  }

  /** The runtime serving the admin endpoint (null without one, or between a death and a promotion). */
  get adminHolder(): RuntimeProcess | null {
    return this.holder
  }

  /**
   * Binds the service socket (rejects with its bind error: the service cannot run) and the admin
   * socket (a failure is logged, and the service runs without it).
   */
  async bind(ready: ReadyMessage): Promise<void> {
    const { service, admin } = ready
    this.listeners.set('service', await OwnedListener.bind('service', service.port, service.host))
    if (!admin) return
    try {
      this.listeners.set('admin', await OwnedListener.bind('admin', admin.port, admin.host))
    } catch (err) {
      logAdminUnavailable(this.log, admin.host, admin.port, err as Error)
    }
  }

  /** Gives a runtime being promoted the service socket. */
  hand(runtime: RuntimeProcess): void {
    const service = this.listeners.get('service')!
    runtime.send({ type: 'listener', name: 'service', port: service.address.port, address: service.address.address }, service.server)
  }

  /** Gives the admin socket to the first of `actives` unless its runtime still holds it; true when it moved. */
  moveAdmin(actives: readonly RuntimeProcess[]): boolean {
    const admin = this.listeners.get('admin')
    if (!admin || this.holder?.state === 'active') return false
    const holder = actives[0] ?? null
    this.holder = holder
    if (!holder) {
      admin.forwardTo(null)
      return false
    }
    holder.send({ type: 'listener', name: 'admin', port: admin.address.port, address: admin.address.address }, admin.server)
    admin.forwardTo((socket) => holder.sendConnection('admin', socket))
    return true
  }

  /** Connections the keeper accepts go to `actives()` from now on (held while it is empty). */
  route(actives: () => readonly RuntimeProcess[]): void {
    const spread = (socket: Socket): boolean => {
      const now = actives()
      for (let tried = 0; tried < now.length; tried++) {
        if (now[this.turn++ % now.length]!.sendConnection('service', socket)) return true
      }
      return false
    }
    this.listeners.get('service')?.forwardTo(actives().length > 0 ? spread : null)
  }

  /** A runtime ended: the connections it never claimed go to the next one, unread. */
  takeBack(runtime: RuntimeProcess, stopping: boolean): void {
    if (this.holder === runtime) this.holder = null
    for (const { name, socket } of runtime.unclaimed()) {
      if (stopping) socket.destroy()
      else this.listeners.get(name)?.requeue(socket)
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.listeners.values()].map((l) => l.close()))
    this.listeners.clear()
  }
}
