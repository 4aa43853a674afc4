import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ResolvedConfig } from '../config/index.js'
import { Dispatcher, UpgradeDispatcher } from '../dispatch/index.js'
import { AppLoadError, ConfigError, CrashlessError } from '../errors.js'
import { createFront } from '../front/index.js'
import type { Logger } from '../log.js'
import { isUpgradeTraffic, type SerializedError } from '../protocol.js'
import { Pool } from '../supervise/index.js'
import { startControlPlane, type ControlPlane } from './control-plane.js'
import { openState, sessionSecrets } from './open-state.js'

/** A started crashless runtime. */
export interface Runtime {
  /** The address the service is bound to. */
  readonly address: AddressInfo
  /** Stops accepting, drains in-flight requests (bounded by `timeouts.drainMs`), stops instances. */
  close(): Promise<{ drained: boolean; abandoned: number }>
  /** Resolves when the runtime gives up (spares keep failing to start). */
  readonly failed: Promise<CrashlessError>
}

/**
 * Starts instances of the app, then binds the HTTP front. Rejects with an `AppLoadError`
 * naming the file when the app cannot be loaded, without binding anything.
 *
 * @example
 * ```ts
 * const runtime = await createRuntime(await loadConfig({ cwd, overrides: { entry: 'app.ts' } }), createLogger('info'))
 * process.once('SIGTERM', () => runtime.close())
 * ```
 */
export async function createRuntime(config: ResolvedConfig, log: Logger): Promise<Runtime> {
  // Before any instance: a store that cannot open is a config error, not a failed request later.
  const backend = await openState(config.state, log)
  let secrets: string[] | null
  try {
    secrets = await sessionSecrets(config.session, backend)
  } catch (err) {
    await backend.close()
    throw err
  }
  const dispatcher = new Dispatcher(config, log, backend, secrets)
  let fail: (err: CrashlessError) => void = () => {}
  const failed = new Promise<CrashlessError>((resolve) => {
    fail = resolve
  })
  const upgrades = new UpgradeDispatcher(log, (req, res) => dispatcher.submit(req, res, null))
  const pool = new Pool(config, log, {
    onMessage: (instance, msg) => (isUpgradeTraffic(msg) ? upgrades.handleMessage(instance, msg) : dispatcher.handleMessage(instance, msg)),
    onLost: (instance, loss, swapMs) => {
      upgrades.closeInstance(instance, loss)
      dispatcher.handleLost(instance, loss, swapMs)
    },
    onCapacity: () => dispatcher.pump(),
    onTainted: (instance) => dispatcher.moveUnstarted(instance),
    onStalled: (instance, requestId, runMs) => dispatcher.stalls.stalled(instance, requestId, runMs),
    stillLimitMs: (instance, requestId) => dispatcher.stalls.limitMs(instance, requestId),
    onStalledApart: (instance, requestId) => dispatcher.stalls.stalledApart(instance, requestId),
    leaseMs: (instance, requestId) => dispatcher.stalls.leaseMs(instance, requestId),
    onStretch: (instance, requestId, ms) => dispatcher.stalls.learn(instance, requestId, ms),
    onRetired: (instance) => upgrades.closeInstance(instance, { reason: 'retired', error: null, culprit: null, fatal: null, exitCode: null }),
    onStartFailures: (error) => fail(new AppLoadError(config.entry, describe(error))),
  })
  dispatcher.attach(pool)
  upgrades.attach(pool)

  const startedAt = performance.now()
  let ready
  try {
    ready = await pool.start()
  } catch (err) {
    // Stop the pool before reporting: it replaces instances lost while starting, and a module
    // that cannot load would otherwise be respawned in a loop that keeps the process alive.
    await pool.stop()
    await backend.close()
    throw new AppLoadError(config.entry, describe(err as SerializedError), { cause: err })
  }
  // Known poison must be refused from the first request on: load it before the front binds.
  let control: ControlPlane
  try {
    control = await startControlPlane(config, dispatcher, pool, log)
  } catch (err) {
    await pool.stop()
    await backend.close()
    throw err
  }
  const front = createFront(config, log, {
    submit: (req, res, body) => dispatcher.submit(req, res, body),
    upgrade: (req, socket, head) => upgrades.accept(req, socket, head),
  })
  const port = config.port ?? ready.listen?.port ?? 3000
  const host = config.host ?? ready.listen?.host
  try {
    await listen(front, port, host)
  } catch (err) {
    // The instances are running by now; without stopping them the process would print the
    // error and then stay alive, serving nothing.
    await Promise.all([pool.stop(), control.close()])
    await backend.close()
    const where = host === undefined ? `port ${port}` : `${host}:${port}`
    throw new ConfigError('port', `cannot listen on ${where}: ${(err as Error).message}`, { cause: err })
  }
  const address = front.address() as AddressInfo
  pool.setAdvertisedPort(address.port)
  log.info(
    { event: 'listening', address: address.address, port: address.port, style: ready.style, instances: config.instances, spares: config.spares, startMs: Math.round(performance.now() - startedAt) },
    `crashless serving ${config.entry} on http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
  )

  let closing: Promise<{ drained: boolean; abandoned: number }> | null = null
  return {
    address,
    failed,
    // The store closes last: commits of drained requests finish before it does.
    close: () => (closing ??= shutdown(front, dispatcher, upgrades, pool, config.timeouts.drainMs).then(async (result) => (await control.close(), await backend.close(), result))),
  }
}

async function shutdown(front: Server, dispatcher: Dispatcher, upgrades: UpgradeDispatcher, pool: Pool, drainMs: number): Promise<{ drained: boolean; abandoned: number }> {
  dispatcher.beginClosing()
  upgrades.beginClosing()
  const closed = new Promise<void>((resolve) => front.close(() => resolve()))
  front.closeIdleConnections()
  const deadline = performance.now() + drainMs
  // Polling the in-flight count is simpler than threading a "drained" event through every
  // completion path, and shutdown is rare.
  while (dispatcher.pending > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    front.closeIdleConnections()
  }
  const abandoned = dispatcher.pending
  front.closeAllConnections()
  // Upgraded sockets are not the HTTP server's any more, yet they keep it from closing.
  upgrades.closeAll()
  await closed
  await pool.stop()
  return { drained: abandoned === 0, abandoned }
}

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
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
