import { fork, type ChildProcess } from 'node:child_process'
import type { Server, Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { RUNTIME_ENV, isRuntimeMessage, type KeeperToRuntime, type ListenerName, type ReadyMessage, type RuntimeToKeeper } from './keeper-protocol.js'

/** Where a runtime is in its life, as the keeper sees it. */
export type RuntimeState = 'starting' | 'standby' | 'active' | 'draining' | 'dead'

/** How a runtime process ended. */
export interface RuntimeExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  /** Set when the keeper itself killed it (unresponsive), so the log says why. */
  readonly killedFor: string | null
}

/** What the keeper hears from a runtime. */
export interface RuntimeEvents {
  message(runtime: RuntimeProcess, message: RuntimeToKeeper): void
  exit(runtime: RuntimeProcess, exit: RuntimeExit): void
}

const CLI = fileURLToPath(new URL('../../../bin/crashless.js', import.meta.url))

let nextId = 1

/**
 * One runtime process (dispatcher + instances: today's single-process crashless) started by the
 * keeper: `crashless run` again, with the same arguments, told by its environment to wait for
 * the keeper's sockets instead of binding its own. It shares the keeper's stdout and stderr, so
 * its log lines reach the same place. The keeper's side keeps only what it needs to decide:
 * state, last heartbeat, what the runtime asked to bind.
 *
 * @example
 * ```ts
 * const runtime = RuntimeProcess.start(['app.mjs', '--port', '3000'], events)
 * // events.message(runtime, { type: 'ready', ... }) once its instances are up
 * ```
 */
export class RuntimeProcess {
  readonly id = nextId++
  readonly startedAt = performance.now()
  state: RuntimeState = 'starting'
  lastBeat = performance.now()
  ready: ReadyMessage | null = null
  /** When it became active (performance.now()), for its uptime at death. */
  activeSince = 0
  /**
   * The keeper's reload count when it started: a runtime of an older generation runs the code
   * and config from before the last reload, and is replaced by it.
   */
  generation = 0
  private killedFor: string | null = null
  /** Connections sent and not yet acknowledged, by id: the keeper's copies, still unread. */
  private readonly handedOver = new Map<number, { name: ListenerName; socket: Socket }>()
  private nextConnection = 1

  private constructor(
    private readonly child: ChildProcess,
    events: RuntimeEvents,
  ) {
    child.on('message', (message: unknown) => {
      if (!isRuntimeMessage(message)) return
      // Any message is a sign of life. `ready` above all: the lease is watched from then on, and
      // a runtime that took longer than a lease to start (a loaded machine) must not be judged
      // silent for its start-up (it was: a reload's new runtime was killed 68 ms after promotion).
      this.lastBeat = performance.now()
      if (message.type === 'ready') this.ready = message
      else if (message.type === 'connection-taken') return this.taken(message.id)
      events.message(this, message)
    })
    // 'exit', not 'close': stdio is inherited, and the keeper must act the moment it is gone.
    child.once('exit', (code, signal) => {
      this.state = 'dead'
      events.exit(this, { code, signal, killedFor: this.killedFor })
    })
    // An IPC write to a process that just died raises EPIPE here; its 'exit' says the rest.
    child.on('error', () => {})
  }

  /** Forks `crashless run <args>` as a runtime of this keeper. */
  static start(args: readonly string[], events: RuntimeEvents): RuntimeProcess {
    const child = fork(CLI, ['run', ...args], {
      env: { ...process.env, [RUNTIME_ENV]: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    return new RuntimeProcess(child, events)
  }

  get pid(): number {
    return this.child.pid ?? -1
  }

  /** Sends a message; false when the channel is gone (the runtime is dying). */
  send(message: KeeperToRuntime, handle?: Server | Socket, done?: (error: Error | null) => void, options: { keepOpen?: boolean } = {}): boolean {
    if (!this.child.connected) return false
    try {
      this.child.send(message, handle, options, done ?? (() => {}))
      return true
    } catch {
      return false
    }
  }

  /**
   * Hands an accepted (paused, unread) connection over. The keeper keeps its own descriptor
   * (`keepOpen`) until the runtime says it has the connection: a runtime that dies between the
   * two would otherwise take the connection with it, unanswered (Node keeps a handle whose
   * receiver died before acknowledging it, and the client waits forever).
   */
  sendConnection(name: ListenerName, socket: Socket): boolean {
    const id = this.nextConnection++
    this.handedOver.set(id, { name, socket })
    if (this.send({ type: 'connection', name, id }, socket, undefined, { keepOpen: true })) return true
    this.handedOver.delete(id)
    return false
  }

  /** Connections it never acknowledged (it died first): still unread, for another runtime. */
  unclaimed(): { name: ListenerName; socket: Socket }[] {
    const left = [...this.handedOver.values()].filter((c) => !c.socket.destroyed)
    this.handedOver.clear()
    return left
  }

  private taken(id: number): void {
    const handed = this.handedOver.get(id)
    this.handedOver.delete(id)
    // Closes only the keeper's descriptor: the runtime's keeps the connection open.
    handed?.socket.destroy()
  }

  /** Ends it at once (SIGKILL): it is stuck, or the keeper is giving up. */
  kill(reason: string): void {
    if (this.state === 'dead') return
    this.killedFor ??= reason
    this.child.kill('SIGKILL')
  }
}
