import type { Server } from 'node:http'
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net'
import { createProbes, serviceProbe, type AdminHttp } from '../admin/index.js'
import type { ResolvedConfig } from '../config/index.js'
import { ComponentSet } from '../components/index.js'
import { AppLoadError, CrashlessError } from '../errors.js'
import { createFront } from '../front/index.js'
import type { ImmunityStore } from '../immunity/index.js'
import type { KeeperFigures } from '../metrics/index.js'
import type { Logger } from '../log.js'
import type { SerializedError } from '../protocol.js'
import { startControlPlane, type ControlPlane } from './control-plane.js'
import { openState, sessionSecrets } from './open-state.js'

/** A runtime with its instances up and its stores open, that accepts nothing yet. */
export interface StartedRuntime {
  /** The HTTP front, not bound: bind it, or feed it connections with `emit('connection')`. */
  readonly front: Server
  /** The admin endpoint, not bound (null when disabled). */
  readonly admin: AdminHttp | null
  /** The app's components, each with its pool and dispatcher (one, `default`, without `components`). */
  readonly components: ComponentSet
  readonly immunity: ImmunityStore | null
  /** Where it would serve: `port`/`host` of the config, else what the app asked for, else 3000. */
  readonly wants: { port: number; host: string | undefined }
  /** Logs `listening` (the line tests and operators wait for) and tells instances the port. */
  announce(address: AddressInfo, extra?: Record<string, unknown>): void
  /** Resolves when the runtime gives up (spares keep failing to start). */
  readonly failed: Promise<CrashlessError>
  /** Under a keeper: the keeper's counts, for `/metrics`. */
  setKeeperCounts(counts: KeeperFigures): void
  /** Under a keeper with several runtimes: see ControlPlane.report and setPeers. */
  report: ControlPlane['report']
  setPeers: ControlPlane['setPeers']
  /**
   * Stops accepting, drains in-flight requests (bounded by `timeouts.drainMs`), stops instances,
   * closes stores. With `handover` (another runtime serves now) idle keep-alive connections are
   * left their keep-alive timeout instead of a second.
   */
  close(options?: { handover?: boolean }): Promise<{ drained: boolean; abandoned: number }>
}

/**
 * Opens the stores, starts the instances, loads the immunity table and creates the front and
 * the admin endpoint, without binding any socket. `createRuntime` binds them itself; under a
 * keeper the runtime waits, warm, for the sockets the keeper owns.
 *
 * @throws AppLoadError naming the file when the app cannot be loaded; ConfigError for a store or admin option.
 * @example
 * ```ts
 * const started = await startRuntime(config, log, null)
 * started.front.listen(started.wants.port, () => started.announce(started.front.address() as AddressInfo))
 * ```
 */
export async function startRuntime(config: ResolvedConfig, log: Logger, requestReload: (() => void) | null, escalate?: (why: string) => void): Promise<StartedRuntime> {
  // Before any instance: a store that cannot open is a config error, not a failed request later.
  const backend = await openState(config.state, log)
  let secrets: string[] | null
  try {
    secrets = await sessionSecrets(config.session, backend)
  } catch (err) {
    await backend.close()
    throw err
  }
  let fail: (err: CrashlessError) => void = () => {}
  let gaveUp = false
  const failed = new Promise<CrashlessError>((resolve) => {
    fail = resolve
  })
  void failed.then(() => (gaveUp = true))
  const components = new ComponentSet(config, log, backend, secrets, {
    onStartFailures: (entry, error) => fail(new AppLoadError(entry, describe(error))),
    // Ladder level 4 needs a keeper; without one the log line is all there is.
    escalate,
  })

  const startedAt = performance.now()
  let ready
  try {
    // Stopped on failure before reporting: a pool replaces instances lost while starting, and a
    // module that cannot load would otherwise be respawned in a loop that keeps the process alive.
    ready = await components.start()
  } catch (err) {
    await backend.close()
    throw new AppLoadError(config.entry, describe(err as SerializedError), { cause: err })
  }
  let closing: Promise<{ drained: boolean; abandoned: number }> | null = null
  const probes = createProbes({
    readyInstances: () => components.active.filter((i) => i.state === 'ready').length,
    components: () => components.all.map((c) => ({ name: c.name, ready: c.pool.active.filter((i) => i.state === 'ready').length })),
    draining: () => closing !== null,
    gaveUp: () => gaveUp,
  })
  // Known poison must be refused from the first request on: load it before anything is accepted.
  let control
  try {
    control = await startControlPlane(config, components, probes, log, requestReload)
  } catch (err) {
    await components.stop()
    await backend.close()
    throw err
  }
  // With no components configured, requests go straight to the one dispatcher: no route lookup.
  const only = components.all.length === 1 ? components.fallback : null
  const front = createFront(config, log, {
    submit: only ? (req, res, body) => only.dispatcher.submit(req, res, body) : (req, res, body) => components.submit(req, res, body),
    upgrade: only ? (req, socket, head) => only.upgrades.accept(req, socket, head) : (req, socket, head) => components.upgrade(req, socket, head),
    probe: config.probes.path === undefined ? null : serviceProbe(config.probes.path, probes),
  })
  countConnections(front)
  return {
    front,
    admin: control.admin,
    components,
    immunity: control.immunity,
    wants: { port: config.port ?? ready.listen?.port ?? 3000, host: config.host ?? ready.listen?.host },
    failed,
    setKeeperCounts: control.setKeeperCounts,
    report: control.report,
    setPeers: control.setPeers,
    announce: (address, extra) => {
      components.setAdvertisedPort(address.port)
      log.info(
        { event: 'listening', address: address.address, port: address.port, style: ready.style, instances: config.instances, spares: config.spares, ...(only ? {} : { components: components.all.map((c) => c.name) }), startMs: Math.round(performance.now() - startedAt), ...extra },
        `crashless serving ${config.entry} on http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
      )
    },
    // The store closes last: commits of drained requests finish before it does.
    close: (options) => (closing ??= shutdown(front, components, config.timeouts.drainMs, options?.handover === true).then(async (result) => (await control.close(), await backend.close(), result))),
  }
}


/** How long keep-alive connections idle at the start of a drain stay open when the service stops. */
const IDLE_GRACE_MS = 1_000

async function shutdown(front: Server, components: ComponentSet, drainMs: number, handover: boolean): Promise<{ drained: boolean; abandoned: number }> {
  components.beginClosing()
  const startedAt = performance.now()
  const deadline = startedAt + drainMs
  // Stop accepting, and only that: http.Server#close() would also close idle keep-alive
  // connections at once (Node >= 19), which is the race explained below. Under a keeper this
  // closes the runtime's copy of the socket; the keeper's stays open.
  const closed = front.listening ? new Promise<void>((resolve) => NetServer.prototype.close.call(front, () => resolve())) : null
  // A keep-alive connection idle right now may be a client between two requests, about to send
  // the next: closed now, that request would be reset (the reload failures of PM2,
  // Unitech/pm2#2573). Each request such a connection still carries is answered with
  // `connection: close`, so busy clients move on by themselves, and idle ones are closed after a
  // grace. When another runtime serves (a reload), that grace is the keep-alive timeout the
  // server announced (`Keep-Alive: timeout=5`), after which it would have closed them anyway: a
  // client slower than that to send its next request was told not to reuse the connection (1 s
  // was not enough on a starved machine: later requests were reset). When the service stops
  // there is nowhere else to go: a second.
  const graceEnd = startedAt + Math.min(drainMs, handover ? front.keepAliveTimeout : IDLE_GRACE_MS)
  const open = openConnections.get(front) ?? { count: 0 }
  // HTTP connections still open (upgraded ones are closed below, whatever they do).
  const openHttp = (): number => open.count - components.upgraded
  // Polling is simpler than threading a "drained" event through every completion path, and
  // shutdown is rare.
  while (performance.now() < deadline && (components.pending > 0 || openHttp() > 0)) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    // Timers run before the event loop reads sockets: let it read what arrived meanwhile, or a
    // request already sent would look idle to the check below and be reset with it (seen on a
    // starved machine, where a whole grace can pass between two turns).
    await new Promise((resolve) => setImmediate(resolve))
    if (performance.now() >= graceEnd) front.closeIdleConnections()
  }
  const abandoned = components.pending
  front.closeAllConnections()
  // Upgraded sockets are not the HTTP server's any more, yet they keep it from closing.
  components.closeUpgrades()
  await (closed ?? new Promise<void>((resolve) => front.close(() => resolve())))
  await components.stop()
  return { drained: abandoned === 0, abandoned }
}

/** Connections open on each front, whether it accepted them or a keeper passed them in. */
const openConnections = new WeakMap<Server, { count: number }>()

function countConnections(front: Server): void {
  const open = { count: 0 }
  openConnections.set(front, open)
  front.on('connection', (socket: Socket) => {
    open.count++
    socket.once('close', () => open.count--)
  })
}

/** crashless's own compiled code: its frames say nothing about where the app went wrong. */
const OWN_CODE = new URL('../../', import.meta.url).href

function describe(error: SerializedError | undefined): string {
  if (!error) return 'unknown error'
  // AppStartError is crashless's own verdict about the module (no export, no listen()).
  if (error.name === 'AppStartError') return error.message
  // The first frame in the app's files; Node's loader frames (node:internal) are no help.
  const where = error.stack?.split('\n').find((line) => line.includes('file://') && !line.includes(OWN_CODE))
  return `${error.name}: ${error.message}${where ? ` (${where.trim()})` : ''}`
}
